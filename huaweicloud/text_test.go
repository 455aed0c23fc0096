package huaweicloud

import (
	"encoding/json"
	"testing"
)

// TestTextStringsDecodeLikeJSON: the fast path for strings without escapes says what encoding/json says,
// invalid UTF-8 included (replaced), and strings with escapes still take the decoder.
func TestTextStringsDecodeLikeJSON(t *testing.T) {
	for _, raw := range []string{`""`, `"createServer"`, `"创建云服务器"`, `"a\"b"`, `"line\nbreak"`, `"\u00e9t\u00e9"`,
		"\"bad\xffbyte\"", `"back\\slash"`} {
		var want string
		if err := json.Unmarshal([]byte(raw), &want); err != nil {
			t.Fatalf("%s: %v", raw, err)
		}
		var got text
		if err := got.UnmarshalJSON([]byte(raw)); err != nil || string(got) != want {
			t.Errorf("%q: got %q (%v), want %q", raw, got, err, want)
		}
	}
}
