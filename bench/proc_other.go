//go:build !linux

package main

import "syscall"

// childAttr is empty where the kernel cannot tie a child's life to the
// harness's; the harness still stops its children on a normal exit.
func childAttr() *syscall.SysProcAttr { return nil }
