package main

import "syscall"

// childAttr has the kernel kill a child when the harness dies, so an
// interrupted or crashed run leaves no gateway or mock listening.
func childAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
