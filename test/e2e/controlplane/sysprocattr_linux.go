package controlplane

import "syscall"

// sysProcAttr puts each component in its own process group (so Stop can
// signal the group) and asks the kernel to kill it if the test binary dies
// without running its cleanups.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}
