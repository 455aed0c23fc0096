// Package labeltext makes a text from an API answer safe to carry as a Prometheus label value, in a log
// line or on the landing page.
//
// Contract: Cut and Truncate return valid UTF-8 (a single invalid byte would make the whole exposition
// unparseable, and Prometheus would drop every series of the scrape) on one line, with no C0 or C1
// control, DEL, or bidi embedding, override or isolate (each replaced by a space, "\r\n" by one space),
// trimmed of surrounding white space before the cut (a cut can end on a space inside the text), and at
// most n bytes, cut on a rune boundary. Escaping for the text format is not done here (the exposition
// writer does it).
package labeltext

import (
	"strings"
	"unicode/utf8"
)

// Truncate makes s a label value (see the package contract).
func Truncate(s string, n int) string {
	s, _ = Cut(s, n)
	return s
}

// Cut is Truncate that also tells whether s had to be shortened (to count it); replacing a control
// character or an invalid byte alone is not a cut.
func Cut(s string, n int) (string, bool) {
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	if strings.IndexFunc(s, unsafeRune) >= 0 {
		s = crlf.Replace(s)
		s = strings.Map(func(r rune) rune {
			if unsafeRune(r) {
				return ' '
			}
			return r
		}, s)
	}
	s = strings.TrimSpace(s)
	if len(s) <= n {
		return s, false
	}
	// s is valid UTF-8 here: step back to the start of the rune that straddles the cut.
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n], true
}

// crlf makes a CRLF one space, as a lone CR or LF is.
var crlf = strings.NewReplacer("\r\n", " ")

// unsafeRune tells the runes a label value or a page never carries: C0 and C1 controls and DEL (a NUL or
// an ESC sequence from the API would reach a terminal reading the exposition or a log), and the bidi
// embeddings, overrides and isolates (U+202A-U+202E, U+2066-U+2069), which make a value read backwards
// ("Trojan Source", CVE-2021-42574). Each is replaced by a space, as \r and \n always were.
func unsafeRune(r rune) bool {
	return r < 0x20 || (r >= 0x7f && r <= 0x9f) || (r >= 0x202a && r <= 0x202e) || (r >= 0x2066 && r <= 0x2069)
}
