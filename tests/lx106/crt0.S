/* Start-up code and exception vectors for ICBIND's core unit tests on the
 * lx106 under QEMU (`qemu-system-xtensa -M sim -cpu lx106`).
 *
 * QEMU's sim machine loads the ELF and then resets the CPU, so the program
 * starts at the lx106's static reset vector, 0x50000000, not at the ELF's
 * entry point: every register is zero, PS is 0x1f (exception mode, all
 * interrupts masked) and VECBASE is 0x40000000.  picolibc's own crt0 for
 * this target expects a boot ROM to have set the stack pointer, and there is
 * none here.  So:
 *
 *   reset vector  jumps to _start
 *   _start        sets the stack pointer, VECBASE and PS, calls
 *                 lx106_start() (sys.c), which never returns
 *   the vectors   every exception ends the program through
 *                 lx106_exception() (sys.c): it prints the cause and the PC
 *                 and QEMU exits with status 139.  An unaligned 16- or
 *                 32-bit access, the fault this harness exists to find, is
 *                 EXCCAUSE 9.
 *
 * The lx106 uses the call0 ABI: no register windows, arguments in a2..a7,
 * return address in a0, stack pointer a1.
 */

#define PS_UM       0x20        /* user vector mode */
#define PS_INTLEVEL 0x0f        /* every interrupt masked */

/* Which vector was taken: lx106_exception()'s first argument. */
#define VEC_DEBUG   1
#define VEC_NMI     2
#define VEC_KERNEL  3
#define VEC_USER    4
#define VEC_DOUBLE  5

        /* At 0x50000000.  l32r only loads from below itself, so the
         * address of _start sits between the jump and the load. */
        .section .lx106.reset, "ax"
        .global lx106_reset
lx106_reset:
        .begin  no-transform
        j       1f
        .align  4
.Lstart_addr:
        .word   _start
1:      l32r    a0, .Lstart_addr
        jx      a0
        .end    no-transform

        /* One vector: keep a0 in EXCSAVE1, say which vector it was, and
         * go to the common handler.  Each has 16 bytes at most. */
        .macro  vector section, id
        .section \section, "ax"
        .begin  no-transform
        wsr     a0, excsave1
        movi    a0, \id
        j       lx106_trap
        .end    no-transform
        .endm

        vector  .lx106.vector.debug,  VEC_DEBUG
        vector  .lx106.vector.nmi,    VEC_NMI
        vector  .lx106.vector.kernel, VEC_KERNEL
        vector  .lx106.vector.user,   VEC_USER
        vector  .lx106.vector.double, VEC_DOUBLE

        .section .lx106.start, "ax"
        .align  4
.Lstack_top:    .word   _stack_top
.Lvectors:      .word   _lx106_vectors
.Lstart_c:      .word   lx106_start
.Ltrap_stack:   .word   lx106_trap_stack_top
.Ltrap_a0:      .word   lx106_trap_a0
.Lexception:    .word   lx106_exception

        .global _start
        .type   _start, @function
        .align  4
_start:
        movi    a0, 0
        wsr     a0, intenable
        l32r    a1, .Lstack_top
        l32r    a2, .Lvectors
        wsr     a2, vecbase
        movi    a2, PS_UM | PS_INTLEVEL
        wsr     a2, ps
        rsync
        movi    a0, 0                   /* no caller, for a debugger */
        l32r    a2, .Lstart_c
        callx0  a2
1:      j       1b
        .size   _start, . - _start

/* a0 holds the vector's id; the interrupted a0 is in EXCSAVE1.  Nothing
 * returns from here, so any register may be used.  The interrupted stack
 * pointer is passed on (a stack overflow is the likeliest cause of a fault
 * with a bad a1) and the handler runs on a stack of its own.  PS.EXCM is
 * cleared first, so that a fault inside the handler enters the user vector
 * again, where lx106_exception() notices it, instead of looping. */
        .align  4
        .type   lx106_trap, @function
lx106_trap:
        mov     a7, a1                  /* sp               -> 6th argument */
        mov     a2, a0                  /* vector           -> 1st */
        rsr     a3, exccause            /* cause            -> 2nd */
        rsr     a4, epc1                /* pc of the fault  -> 3rd */
        rsr     a5, excvaddr            /* address accessed -> 4th */
        rsr     a6, depc                /* double exception -> 5th */
        rsr     a8, excsave1
        l32r    a9, .Ltrap_a0
        s32i    a8, a9, 0
        l32r    a1, .Ltrap_stack
        movi    a0, PS_UM | PS_INTLEVEL
        wsr     a0, ps
        rsync
        movi    a0, 0
        l32r    a8, .Lexception
        callx0  a8
1:      j       1b
        .size   lx106_trap, . - lx106_trap

        .section .bss, "aw", @nobits
        .align  16
        .space  1024
lx106_trap_stack_top:
        .global lx106_trap_a0
        .align  4
lx106_trap_a0:
        .space  4
