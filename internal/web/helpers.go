package web

import "strings"

func normalizeEmail(s string) string { return strings.ToLower(strings.TrimSpace(s)) }

// cutLast splits s around the last sep.
func cutLast(s, sep string) (before, after string, found bool) {
	i := strings.LastIndex(s, sep)
	if i < 0 {
		return s, "", false
	}
	return s[:i], s[i+len(sep):], true
}
