package app

import (
	"strings"
	"testing"
)

// --demo serves on loopback unless --web.listen-address is given: the demo needs no other machine.
func TestListenAddresses(t *testing.T) {
	for _, tc := range []struct {
		name      string
		flag      []string
		demo, set bool
		want      []string
	}{
		{"demo, flag not given", []string{":19866"}, true, false, []string{"127.0.0.1:19866"}},
		{"demo, flag given", []string{":19866"}, true, true, []string{":19866"}},
		{"demo, other address given", []string{"0.0.0.0:9999"}, true, true, []string{"0.0.0.0:9999"}},
		{"real, flag not given", []string{":19866"}, false, false, []string{":19866"}},
		{"real, flag given", []string{"127.0.0.1:1"}, false, true, []string{"127.0.0.1:1"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := ListenAddresses(tc.flag, tc.demo, tc.set)
			if strings.Join(got, ",") != strings.Join(tc.want, ",") {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
}

func TestHealthURL(t *testing.T) {
	for _, tc := range []struct {
		listen string
		tls    bool
		want   string
	}{
		{":19866", false, "http://127.0.0.1:19866/-/healthy"},
		{"0.0.0.0:1", false, "http://127.0.0.1:1/-/healthy"},
		{"[::]:2", false, "http://[::1]:2/-/healthy"},
		{"127.0.0.1:19866", true, "https://127.0.0.1:19866/-/healthy"},
		{"10.0.0.5:9", false, "http://10.0.0.5:9/-/healthy"},
		{"vsock://:19866", false, ""},
		{"nonsense", false, ""},
	} {
		got, err := healthURL(tc.listen, tc.tls)
		if got != tc.want || (err != nil) != (tc.want == "") {
			t.Errorf("healthURL(%q, %t) = %q, %v; want %q", tc.listen, tc.tls, got, err, tc.want)
		}
	}
}
