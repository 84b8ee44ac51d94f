/* The C side of the lx106 test harness: what an operating system would give
 * the unit tests, over QEMU's semihosting.
 *
 * QEMU implements the Xtensa instruction-set simulator's SIMCALL interface
 * (target/xtensa/xtensa-semi.c): the call's number in a2, its arguments in
 * a3..a5, the result back in a2 and the host's errno in a3.  The calls used:
 *
 *   1 exit(status)        QEMU exits with that status: how a failed test
 *                         run fails the host's command
 *   3 read(fd, buf, n)    4 write(fd, buf, n)
 *   5 open(path, flags, mode)   6 close(fd)   19 lseek(fd, offset, whence)
 *
 * on the host's own file descriptors: 0, 1 and 2 are QEMU's stdin, stdout
 * and stderr (run.sh starts QEMU with -serial none, which keeps them apart),
 * and open() opens a host file, relative to QEMU's working directory.
 *
 * Given here:
 *   stdin, stdout, stderr   picolibc's stdio needs the program to define them
 *   open/read/write/lseek/close
 *                           so picolibc's fopen()/fread() read the tests'
 *                           data files (tests/data) from the host unchanged
 *   sbrk                    malloc's memory, from the region the linker
 *                           script sets aside, with its peak recorded
 *   _exit, kill, getpid     exit() and abort() end QEMU with the status
 *   lx106_start             from crt0.S: zero .bss, paint the stack, main()
 *   lx106_exception         from crt0.S: report a CPU exception, status 139
 *   lx106_division_by_zero  from libgcc_fill.c: report it, status 139
 *
 * At exit the harness prints one line on stderr with the status, the stack's
 * high-water mark and the heap's peak.
 */
#define _DEFAULT_SOURCE 1
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum {
	SIMCALL_EXIT = 1,
	SIMCALL_READ = 3,
	SIMCALL_WRITE = 4,
	SIMCALL_OPEN = 5,
	SIMCALL_CLOSE = 6,
	SIMCALL_LSEEK = 19,
};

static int32_t simcall(int32_t call, int32_t a, int32_t b, int32_t c, int32_t *host_errno)
{
	register int32_t a2 __asm__("a2") = call;
	register int32_t a3 __asm__("a3") = a;
	register int32_t a4 __asm__("a4") = b;
	register int32_t a5 __asm__("a5") = c;
	__asm__ volatile("simcall" : "+r"(a2), "+r"(a3) : "r"(a4), "r"(a5) : "memory");
	if (host_errno)
		*host_errno = a3;
	return a2;
}

/* A call that failed on the host sets errno (Linux's numbers, which are
 * picolibc's for the ones that matter here: ENOENT, EBADF, EACCES...). */
static int32_t simcall_errno(int32_t call, int32_t a, int32_t b, int32_t c)
{
	int32_t e;
	int32_t r = simcall(call, a, b, c, &e);
	if (r == -1)
		errno = e;
	return r;
}

static void raw_write(int fd, const char *s, size_t n)
{
	while (n > 0) {
		int32_t r = simcall(SIMCALL_WRITE, fd, (int32_t)(uintptr_t)s, (int32_t)n, NULL);
		if (r <= 0)
			return;
		s += r;
		n -= (size_t)r;
	}
}

/* ---- files: what picolibc's fopen, fread and fclose call ------------ */

/* Read-only: the tests only read their data.  The host takes the flags as
 * its own, and O_RDONLY is 0 on both sides; the other flags' values differ
 * between picolibc and Linux, so writing is refused rather than guessed. */
int open(const char *path, int flags, ...)
{
	if ((flags & O_ACCMODE) != O_RDONLY) {
		errno = EROFS;
		return -1;
	}
	return simcall_errno(SIMCALL_OPEN, (int32_t)(uintptr_t)path, 0, 0);
}

int close(int fd)
{
	return simcall_errno(SIMCALL_CLOSE, fd, 0, 0);
}

ssize_t read(int fd, void *buf, size_t n)
{
	return simcall_errno(SIMCALL_READ, fd, (int32_t)(uintptr_t)buf, (int32_t)n);
}

ssize_t write(int fd, const void *buf, size_t n)
{
	return simcall_errno(SIMCALL_WRITE, fd, (int32_t)(uintptr_t)buf, (int32_t)n);
}

off_t lseek(int fd, off_t offset, int whence)
{
	return simcall_errno(SIMCALL_LSEEK, fd, (int32_t)offset, whence);
}

/* ---- stdin, stdout, stderr ------------------------------------------ */

/* Output is kept until a newline (or 128 characters), then written in one
 * call; stdout is written out before anything goes to stderr, so the two
 * stay in order on a terminal. */
struct line {
	int fd;
	unsigned n;
	char buf[128];
};

static struct line out_line = { 1, 0, { 0 } };
static struct line err_line = { 2, 0, { 0 } };

static void line_flush(struct line *l)
{
	raw_write(l->fd, l->buf, l->n);
	l->n = 0;
}

static int line_put(struct line *l, char c)
{
	l->buf[l->n++] = c;
	if (c == '\n' || l->n == sizeof(l->buf))
		line_flush(l);
	return (unsigned char)c;
}

static int out_put(char c, FILE *f)
{
	(void)f;
	return line_put(&out_line, c);
}

static int err_put(char c, FILE *f)
{
	(void)f;
	if (out_line.n)
		line_flush(&out_line);
	return line_put(&err_line, c);
}

static int out_flush(FILE *f)
{
	(void)f;
	line_flush(&out_line);
	return 0;
}

static int err_flush(FILE *f)
{
	(void)f;
	line_flush(&err_line);
	return 0;
}

static int in_get(FILE *f)
{
	unsigned char c;
	(void)f;
	line_flush(&out_line);
	return simcall(SIMCALL_READ, 0, (int32_t)(uintptr_t)&c, 1, NULL) == 1 ? c : EOF;
}

static FILE in_file = FDEV_SETUP_STREAM(NULL, in_get, NULL, _FDEV_SETUP_READ);
static FILE out_file = FDEV_SETUP_STREAM(out_put, NULL, out_flush, _FDEV_SETUP_WRITE);
static FILE err_file = FDEV_SETUP_STREAM(err_put, NULL, err_flush, _FDEV_SETUP_WRITE);

FILE *const stdin = &in_file;
FILE *const stdout = &out_file;
FILE *const stderr = &err_file;

/* ---- numbers without printf (for exit and for faults) --------------- */

static void put_str(const char *s)
{
	raw_write(2, s, strlen(s));
}

static void put_hex(uint32_t v)
{
	char b[10] = "0x";
	for (int i = 0; i < 8; i++)
		b[2 + i] = "0123456789abcdef"[(v >> (28 - 4 * i)) & 15];
	raw_write(2, b, sizeof(b));
}

/* Digit by digit from the top, so that printing needs no division helper
 * (this also runs when one of them has just failed). */
static void put_dec(uint32_t v)
{
	static const uint32_t pow10[] = { 1000000000, 100000000, 10000000, 1000000, 100000,
					  10000,      1000,      100,      10,      1 };
	char b[10];
	size_t n = 0;
	for (size_t i = 0; i < sizeof(pow10) / sizeof(pow10[0]); i++) {
		char d = '0';
		while (v >= pow10[i]) {
			v -= pow10[i];
			d++;
		}
		if (d != '0' || n > 0 || i == 9)
			b[n++] = d;
	}
	raw_write(2, b, n);
}

/* ---- the heap --------------------------------------------------------- */

extern char __heap_start[], __heap_end[];
static char *heap_brk = __heap_start, *heap_peak = __heap_start;

void *sbrk(ptrdiff_t incr)
{
	if (incr > __heap_end - heap_brk || incr < __heap_start - heap_brk) {
		static int told;
		if (!told++) {
			line_flush(&out_line);
			put_str("lx106: the heap's ");
			put_dec((uint32_t)(__heap_end - __heap_start));
			put_str(" bytes are used up: malloc() returns NULL from here\n");
		}
		errno = ENOMEM;
		return (void *)-1;
	}
	char *old = heap_brk;
	heap_brk += incr;
	if (heap_brk > heap_peak)
		heap_peak = heap_brk;
	return old;
}

/* ---- the stack's high-water mark ---------------------------------------- */

/* lx106_start fills the unused stack with this; the deepest word no longer
 * holding it marks the most the stack was ever used. */
#define STACK_PAINT 0x5A17C0DEu

extern uint32_t _stack_bottom[], _stack_top[];

static uint32_t stack_used(void)
{
	const volatile uint32_t *p = _stack_bottom;
	while (p < _stack_top && *p == STACK_PAINT)
		p++;
	return (uint32_t)((uintptr_t)_stack_top - (uintptr_t)p);
}

/* ---- the end ------------------------------------------------------------ */

void _exit(int status)
{
	line_flush(&out_line);
	line_flush(&err_line);
	put_str("lx106: exit status ");
	put_dec((uint32_t)status);
	put_str(", stack high-water ");
	put_dec(stack_used());
	put_str(" of ");
	put_dec((uint32_t)((uintptr_t)_stack_top - (uintptr_t)_stack_bottom));
	put_str(" bytes, heap peak ");
	put_dec((uint32_t)(heap_peak - __heap_start));
	put_str(" bytes\n");
	simcall(SIMCALL_EXIT, status, 0, 0, NULL);
	for (;;)
		;
}

/* abort() raises SIGABRT, whose default action comes here: end the run as
 * a shell reports a process killed by that signal (128 + 6 = 134). */
pid_t getpid(void)
{
	return 1;
}

int kill(pid_t pid, int sig)
{
	(void)pid;
	line_flush(&out_line);
	put_str(sig == SIGABRT ? "lx106: abort()\n" : "lx106: killed by a signal\n");
	_exit(128 + sig);
}

/* ---- faults ------------------------------------------------------------- */

static const char *cause_text(uint32_t cause)
{
	switch (cause) {
	case 0: return "IllegalInstruction";
	case 2: return "InstructionFetchError";
	case 3: return "LoadStoreError (byte or halfword access to IRAM or flash)";
	case 6: return "IntegerDivideByZero";
	case 9: return "LoadStoreAlignment (unaligned 16- or 32-bit access)";
	case 14: return "InstrPIFAddrError (code address not mapped)";
	case 15: return "LoadStorePIFAddrError (data address not mapped)";
	case 28: return "LoadProhibited";
	case 29: return "StoreProhibited";
	default: return "";
	}
}

static void stop_for_fault(void) __attribute__((noreturn));
static void stop_for_fault(void)
{
	simcall(SIMCALL_EXIT, 139, 0, 0, NULL); /* as a shell reports SIGSEGV */
	for (;;)
		;
}

extern uint32_t lx106_trap_a0; /* a0 when the exception was taken (crt0.S) */

void lx106_exception(uint32_t vector, uint32_t cause, uint32_t pc, uint32_t addr, uint32_t depc,
		     uint32_t sp);
void lx106_exception(uint32_t vector, uint32_t cause, uint32_t pc, uint32_t addr, uint32_t depc,
		     uint32_t sp)
{
	static const char *const vectors[] = { "?", "debug", "NMI", "kernel", "user", "double" };
	static int again;
	if (again++)
		stop_for_fault(); /* the report itself faulted: just stop */
	line_flush(&out_line);
	line_flush(&err_line);
	put_str("lx106: FATAL ");
	put_str(vector < 6 ? vectors[vector] : "?");
	put_str(" exception, EXCCAUSE ");
	put_dec(cause);
	put_str(" ");
	put_str(cause_text(cause));
	put_str("\nlx106: pc=");
	put_hex(pc);
	put_str(" address=");
	put_hex(addr);
	put_str(" sp=");
	put_hex(sp);
	put_str(" a0=");
	put_hex(lx106_trap_a0);
	if (vector == 5) {
		put_str(" depc=");
		put_hex(depc);
	}
	put_str("\n");
	uint32_t bottom = (uint32_t)(uintptr_t)_stack_bottom;
	if (sp < bottom + 16 || (addr < bottom && addr >= bottom - 0x10000))
		put_str("lx106: STACK OVERFLOW: the stack ran off its bottom\n");
	stop_for_fault();
}

void lx106_division_by_zero(const void *caller) __attribute__((noreturn));
void lx106_division_by_zero(const void *caller)
{
	line_flush(&out_line);
	line_flush(&err_line);
	/* caller is the return address; the call instruction is 3 bytes */
	put_str("lx106: FATAL integer division by zero\nlx106: pc=");
	put_hex((uint32_t)(uintptr_t)caller - 3);
	put_str(" (the division)\n");
	stop_for_fault();
}

/* ---- the start ---------------------------------------------------------- */

extern char _bss_start[], _bss_end[];
extern void __libc_init_array(void);
extern int main(int argc, char **argv);

void lx106_start(void) __attribute__((noreturn));
void lx106_start(void)
{
	/* QEMU's RAM starts out zero, but a program should not count on it. */
	for (volatile char *p = _bss_start; p < _bss_end; p++)
		*p = 0;

	/* Paint the stack below this function's frame (and a margin). */
	uint32_t sp;
	__asm__ volatile("mov %0, a1" : "=r"(sp));
	for (volatile uint32_t *p = _stack_bottom; (uintptr_t)p < sp - 64; p++)
		*p = STACK_PAINT;

	static char name[] = "test-core";
	static char *argv[] = { name, NULL };
	__libc_init_array();
	exit(main(1, argv));
}
