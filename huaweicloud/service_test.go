package huaweicloud

import (
	"slices"
	"strings"
	"testing"
)

func TestParseService(t *testing.T) {
	tests := []struct {
		in      string
		want    Service
		wantErr bool
	}{
		{"ecs", ECS, false},
		{"ECS", ECS, false},
		{"Evs", EVS, false},
		{"bMs", BMS, false},
		{"IMS", IMS, false},
		{"eip", EIP, false},
		{"SDRS", SDRS, false},
		{"Cce", CCE, false},
		{"elb", ELB, false},
		{"cfw", CFW, false},
		{"vpc", "", true}, // EIP's host, not its name
		{"cts", "", true}, // discovery only, not a job service
		{"CTS", "", true},
		{"", "", true},
		{" ecs", "", true},
		{"ecs ", "", true},
		{"ec2", "", true},
		{"ecs,evs", "", true},
	}
	for _, tc := range tests {
		got, err := ParseService(tc.in)
		if got != tc.want || (err != nil) != tc.wantErr {
			t.Errorf("ParseService(%q) = %q, %v; want %q, error %v", tc.in, got, err, tc.want, tc.wantErr)
			continue
		}
		if err != nil {
			msg := err.Error()
			if !strings.Contains(msg, `"`+tc.in+`"`) || !strings.Contains(msg, "ecs, evs, bms, ims, eip, sdrs, cce, elb, cfw") {
				t.Errorf("ParseService(%q) error %q does not name the input and the valid services", tc.in, msg)
			}
			if strings.Contains(msg, "cts,") || strings.HasSuffix(msg, "cts)") {
				t.Errorf("ParseService(%q) error %q offers cts", tc.in, msg)
			}
		}
	}
	if want := []Service{ECS, EVS, BMS, IMS, EIP, SDRS, CCE, ELB, CFW}; !slices.Equal(JobServices, want) {
		t.Errorf("JobServices = %v, want %v", JobServices, want)
	}
	for _, s := range JobServices {
		if got, err := ParseService(string(s)); err != nil || got != s {
			t.Errorf("ParseService(%q) = %q, %v", s, got, err)
		}
	}
}

func TestDefaultEndpoint(t *testing.T) {
	tests := []struct {
		svc    Service
		region string
		want   string
	}{
		{ECS, "ap-southeast-1", "https://ecs.ap-southeast-1.myhuaweicloud.com"},
		{EVS, "cn-north-4", "https://evs.cn-north-4.myhuaweicloud.com"},
		{BMS, "af-south-1", "https://bms.af-south-1.myhuaweicloud.com"},
		{IMS, "la-north-2", "https://ims.la-north-2.myhuaweicloud.com"},
		// The one SDK entry off the pattern (services/cts/v3/region/region.go).
		{CTS, "eu-west-101", "https://cts.eu-west-101.myhuaweicloud.eu"},
		{CTS, "ap-southeast-1", "https://cts.ap-southeast-1.myhuaweicloud.com"},
		{ECS, "eu-west-101", "https://ecs.eu-west-101.myhuaweicloud.com"},
		// The rows of issue 12: EIP lives on the VPC host (eip/v2/region/region.go), SDRS serves
		// ap-southeast-2 from ap-southeast-3 (sdrs/v1/region/region.go), CCE and CFW have eu-west-101 on .eu.
		{EIP, "cn-north-4", "https://vpc.cn-north-4.myhuaweicloud.com"},
		{SDRS, "ap-southeast-2", "https://sdrs.ap-southeast-3.myhuaweicloud.com"},
		{SDRS, "cn-north-4", "https://sdrs.cn-north-4.myhuaweicloud.com"},
		{CCE, "eu-west-101", "https://cce.eu-west-101.myhuaweicloud.eu"},
		{CCE, "ap-southeast-1", "https://cce.ap-southeast-1.myhuaweicloud.com"},
		{ELB, "eu-west-101", "https://elb.eu-west-101.myhuaweicloud.com"},
		{CFW, "eu-west-101", "https://cfw.eu-west-101.myhuaweicloud.eu"},
		{CFW, "my-kualalumpur-1", "https://cfw.my-kualalumpur-1.myhuaweicloud.com"},
		{EIP, "xx-future-9", "https://vpc.xx-future-9.myhuaweicloud.com"},
		// Not in the tables yet: the pattern.
		{ECS, "xx-future-9", "https://ecs.xx-future-9.myhuaweicloud.com"},
		{CTS, "cn-southwest-3", "https://cts.cn-southwest-3.myhuaweicloud.com"},
	}
	for _, tc := range tests {
		if got := DefaultEndpoint(tc.svc, tc.region); got != tc.want {
			t.Errorf("DefaultEndpoint(%s, %s) = %q, want %q", tc.svc, tc.region, got, tc.want)
		}
	}
}

func TestKnownRegion(t *testing.T) {
	tests := []struct {
		svc    Service
		region string
		want   bool
	}{
		{ECS, "cn-north-4", true},
		{ECS, "cn-southwest-3", true},
		{EVS, "ru-northwest-2", true},
		{ECS, "ru-northwest-2", false}, // EVS has it, ECS does not
		{BMS, "eu-west-101", false},
		{IMS, "ap-southeast-5", true},
		{CTS, "eu-west-101", true},
		{CTS, "xx-future-9", false},
		{Service("vpc"), "cn-north-4", false},
		{SDRS, "ap-southeast-1", false},
		{SDRS, "ap-southeast-2", true},
		{ELB, "cn-north-11", false},
		{EIP, "cn-north-11", true},
		{CFW, "cn-southwest-3", true},
		{ECS, "", false},
	}
	for _, tc := range tests {
		if got := KnownRegion(tc.svc, tc.region); got != tc.want {
			t.Errorf("KnownRegion(%s, %q) = %v, want %v", tc.svc, tc.region, got, tc.want)
		}
	}
	// The sizes of the tables as read from the SDK: a slip while copying shows here.
	for svc, n := range map[Service]int{ECS: 33, EVS: 34, IMS: 33, BMS: 24, CTS: 27, EIP: 33, SDRS: 7, CCE: 33, ELB: 32, CFW: 28} {
		row, _ := Spec(svc)
		if got := len(row.Regions); got != n {
			t.Errorf("%s: %d regions, want %d", svc, got, n)
		}
		sorted := slices.Sorted(slices.Values(row.Regions))
		if len(slices.Compact(sorted)) != n {
			t.Errorf("%s: regions not unique", svc)
		}
	}
	// Every exception is a region of its table.
	for _, row := range services {
		for r := range row.Exceptions {
			if !KnownRegion(row.Name, r) {
				t.Errorf("exception %s %s is not in the table", row.Name, r)
			}
		}
	}
}
