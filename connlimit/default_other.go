//go:build !unix

package connlimit

// Default is the cap when none is configured.
func Default() int { return fallback }
