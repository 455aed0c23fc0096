package collector

import "testing"

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
			got, _ := cut(tc.in, 100)
			if got != tc.want {
				t.Errorf("cut(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}
