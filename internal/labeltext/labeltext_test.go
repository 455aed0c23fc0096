package labeltext

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// Issue 22 item 10: no control character or bidi override from the API reaches a label value (or the
// landing page, which shows the same sanitized texts).
func TestCutReplacesControlsAndBidi(t *testing.T) {
	for _, tc := range []struct{ name, in, want string }{
		{"CRLF", "a\r\nb", "a b"},
		{"NUL", "a\x00b", "a b"},
		{"ESC sequence", "\x1b[31mred\x1b[0m", "[31mred [0m"},
		{"tab", "a\tb", "a b"},
		{"DEL", "a\x7fb", "a b"},
		{"C1 CSI", "a\u009bb", "a b"},
		{"right-to-left override", "abc\u202etxt.exe", "abc txt.exe"},
		{"isolate", "a\u2066b\u2069c", "a b c"},
		{"plain text kept", "Ünïcode ok – fine", "Ünïcode ok – fine"},
		{"ZWJ kept", "a\u200db", "a\u200db"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, _ := Cut(tc.in, 100)
			if got != tc.want {
				t.Errorf("Cut(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

func TestTruncate(t *testing.T) {
	if got := Truncate("héllo\nworld", 2); got != "h" {
		t.Errorf("truncate in the middle of a rune = %q, want %q", got, "h")
	}
	if got := Truncate(" a\nb ", 10); got != "a b" {
		t.Errorf("truncate newline = %q", got)
	}
}

// FuzzCut checks the package contract on any input: valid UTF-8, no unsafe rune, at most n bytes, and a
// text within the cap is reported as not cut.
func FuzzCut(f *testing.F) {
	for _, s := range []string{"", "a\r\nb", "\x1b[31mred", "abc\u202etxt", "héllo", "\xff\xfe", " x ", "a\u0085b"} {
		f.Add(s, uint8(3))
	}
	f.Fuzz(func(t *testing.T, s string, n uint8) {
		got, cut := Cut(s, int(n))
		if !utf8.ValidString(got) || len(got) > int(n) || strings.IndexFunc(got, unsafeRune) >= 0 {
			t.Fatalf("Cut(%q, %d) = %q", s, n, got)
		}
		clean := utf8.ValidString(s) && strings.IndexFunc(s, unsafeRune) < 0
		if clean && cut != (len(strings.TrimSpace(s)) > int(n)) {
			t.Fatalf("Cut(%q, %d) reports cut = %v", s, n, cut)
		}
	})
}
