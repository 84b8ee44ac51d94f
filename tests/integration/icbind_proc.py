"""Start and stop an icbind process for a test, and read its log.

Everything runs on loopback, on ports that the test picks with free_port().
"""
import os
import socket
import subprocess
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
# ICBIND_BIN lets the suite run against another build (the sanitizer one).
ICBIND = os.environ.get("ICBIND_BIN", os.path.join(ROOT, "build", "icbind"))

_used_ports = set()


def free_port(addr="127.0.0.1"):
    """A port free for both UDP and TCP on addr, not handed out before."""
    for _ in range(200):
        s = socket.socket(socket.AF_INET6 if ":" in addr else socket.AF_INET, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind((addr, 0))
        port = s.getsockname()[1]
        s.close()
        if port in _used_ports:
            continue
        u = socket.socket(socket.AF_INET6 if ":" in addr else socket.AF_INET, socket.SOCK_DGRAM)
        try:
            u.bind((addr, port))
        except OSError:
            continue
        finally:
            u.close()
        _used_ports.add(port)
        return port
    raise RuntimeError("no free port")


class Icbind:
    """An icbind child process in the foreground, logging to a file."""

    def __init__(self, args=None, config=None, port=None, addr="127.0.0.1", verbose=2,
                 nofile=None):
        """nofile: the child's descriptor limit (soft and hard), if given."""
        self.addr = addr
        self.port = port or free_port(addr)
        self.dir = tempfile.mkdtemp(prefix="icbind-test-")
        self.logpath = os.path.join(self.dir, "icbind.log")
        argv = [ICBIND, "--foreground", "--listen", "%s@%d" % (addr, self.port)]
        argv += ["-v"] * verbose
        if config is not None:
            cpath = os.path.join(self.dir, "icbind.conf")
            with open(cpath, "w") as f:
                f.write(config)
            argv += ["--config", cpath]
        argv += list(args or [])
        self.argv = argv
        self.log = open(self.logpath, "w+")
        limit = None
        if nofile is not None:
            def limit():
                import resource
                resource.setrlimit(resource.RLIMIT_NOFILE, (nofile, nofile))
        self.proc = subprocess.Popen(argv, stdout=self.log, stderr=subprocess.STDOUT,
                                     preexec_fn=limit)

    def logtext(self):
        with open(self.logpath) as f:
            return f.read()

    def wait_log(self, text, timeout=10.0, start=0):
        """Wait until text appears in the log (after character offset start)."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            t = self.logtext()
            if text in t[start:]:
                return t
            if self.proc.poll() is not None:
                raise AssertionError("icbind exited (%s) while waiting for %r:\n%s"
                                     % (self.proc.returncode, text, t))
            time.sleep(0.02)
        raise AssertionError("timed out waiting for %r in icbind log:\n%s" % (text, self.logtext()))

    def alive(self):
        return self.proc.poll() is None

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self.log.close()
        return self.proc.returncode

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


def assert_sanitizer_clean(text):
    """Fail if AddressSanitizer/UBSan/LeakSanitizer reported anything."""
    for marker in ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:"):
        assert marker not in text, "sanitizer report in icbind log:\n" + text
