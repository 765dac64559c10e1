//go:build unix && !linux

package controlplane

import "syscall"

// sysProcAttr puts each component in its own process group so Stop can
// signal the group.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}
