package huaweicloud

// The regions of the official Go SDK's region tables, services/<svc>/<version>/region/region.go of
// github.com/huaweicloud/huaweicloud-sdk-go-v3, the source of the default endpoints (see the service
// table in services.go). Every entry of them is https://<host>.<region>.myhuaweicloud.com except the
// rows' Exceptions; the SDK's tables grow with every release, so a region missing here still gets that
// pattern (DefaultEndpoint) and config validation only warns about it (KnownRegion).
//
// Versions read: ECS services/ecs/v2/region/region.go at commit 07369e2 (33 regions, the same list as
// v0.1.207 in the project's API notes); IMS services/ims/v2/region/region.go (29 regions in the newest Go
// version found) completed to the 33 of the SDK's PHP twin (Ims/V2/Region/ImsRegion.php), the ECS list;
// EVS the ECS list plus ru-northwest-2 (v0.1.207 per the project's API notes; Python twin
// huaweicloudsdkevs/v2/region/evs_region.py); BMS the 24 of the Java twin (bms/v1/region/BmsRegion.java,
// the Go file read had 18 of them); CTS services/cts/v3/region/region.go (27 regions). EIP, SDRS, CCE,
// ELB and CFW: services/{eip/v2,sdrs/v1,cce/v3,elb/v3,cfw/v1}/region/region.go of v0.1.207.

var ecsRegions = []string{"ae-ad-1", "af-north-1", "af-south-1", "ap-southeast-1", "ap-southeast-2", "ap-southeast-3",
	"ap-southeast-4", "ap-southeast-5", "cn-east-2", "cn-east-3", "cn-east-4", "cn-east-5", "cn-north-1", "cn-north-11",
	"cn-north-12", "cn-north-2", "cn-north-4", "cn-north-9", "cn-south-1", "cn-south-2", "cn-south-4", "cn-southwest-2",
	"cn-southwest-3", "eu-west-0", "eu-west-101", "la-north-2", "la-south-2", "me-east-1", "my-kualalumpur-1",
	"na-mexico-1", "ru-moscow-1", "sa-brazil-1", "tr-west-1"}

var bmsRegions = []string{"af-south-1", "ap-southeast-1", "ap-southeast-2", "ap-southeast-3", "ap-southeast-4", "cn-east-2", "cn-east-3",
	"cn-east-4", "cn-east-5", "cn-north-1", "cn-north-11", "cn-north-2", "cn-north-4", "cn-north-9", "cn-south-1",
	"cn-south-2", "cn-southwest-2", "la-north-2", "la-south-2", "me-east-1", "na-mexico-1", "ru-northwest-2",
	"sa-brazil-1", "tr-west-1"}

var ctsRegions = []string{"ae-ad-1", "af-south-1", "ap-southeast-1", "ap-southeast-2", "ap-southeast-3", "ap-southeast-4", "cn-east-2",
	"cn-east-3", "cn-north-1", "cn-north-2", "cn-north-4", "cn-north-9", "cn-south-1", "cn-south-2", "cn-south-4",
	"cn-southwest-2", "eu-west-0", "eu-west-101", "la-north-2", "la-south-2", "me-east-1", "my-kualalumpur-1",
	"na-mexico-1", "ru-moscow-1", "ru-northwest-2", "sa-brazil-1", "tr-west-1"}

// eipRegions: eip/v2/region/region.go, all on vpc.{region}.myhuaweicloud.com.
var eipRegions = []string{"ae-ad-1", "af-north-1", "af-south-1", "ap-southeast-1", "ap-southeast-2", "ap-southeast-3",
	"ap-southeast-4", "ap-southeast-5", "cn-east-2", "cn-east-3", "cn-east-4", "cn-east-5", "cn-north-1", "cn-north-11",
	"cn-north-12", "cn-north-2", "cn-north-4", "cn-north-9", "cn-south-1", "cn-south-2", "cn-south-4", "cn-southwest-2",
	"eu-west-0", "eu-west-101", "la-north-2", "la-south-2", "me-east-1", "my-kualalumpur-1", "na-mexico-1",
	"ru-moscow-1", "ru-northwest-2", "sa-brazil-1", "tr-west-1"}

// sdrsRegions: sdrs/v1/region/region.go; ap-southeast-2 is answered by sdrs.ap-southeast-3.
var sdrsRegions = []string{"af-south-1", "ap-southeast-2", "ap-southeast-3", "cn-east-2", "cn-east-3", "cn-north-4", "cn-south-1"}

// cceRegions: cce/v3/region/region.go; eu-west-101 is on myhuaweicloud.eu.
var cceRegions = eipRegions

// elbRegions: elb/v3/region/region.go (the EIP list without cn-north-11).
var elbRegions = []string{"ae-ad-1", "af-north-1", "af-south-1", "ap-southeast-1", "ap-southeast-2", "ap-southeast-3",
	"ap-southeast-4", "ap-southeast-5", "cn-east-2", "cn-east-3", "cn-east-4", "cn-east-5", "cn-north-1",
	"cn-north-12", "cn-north-2", "cn-north-4", "cn-north-9", "cn-south-1", "cn-south-2", "cn-south-4", "cn-southwest-2",
	"eu-west-0", "eu-west-101", "la-north-2", "la-south-2", "me-east-1", "my-kualalumpur-1", "na-mexico-1",
	"ru-moscow-1", "ru-northwest-2", "sa-brazil-1", "tr-west-1"}

// cfwRegions: cfw/v1/region/region.go; eu-west-101 is on myhuaweicloud.eu, and my-kualalumpur-1 lists
// .com first (then .cn, which the SDK tries second).
var cfwRegions = []string{"af-north-1", "af-south-1", "ap-southeast-1", "ap-southeast-2", "ap-southeast-3", "ap-southeast-4",
	"ap-southeast-5", "cn-east-2", "cn-east-3", "cn-east-4", "cn-east-5", "cn-north-11", "cn-north-12", "cn-north-4",
	"cn-north-9", "cn-south-1", "cn-south-2", "cn-south-4", "cn-southwest-2", "cn-southwest-3", "eu-west-101",
	"la-north-2", "la-south-2", "me-east-1", "my-kualalumpur-1", "ru-moscow-1", "sa-brazil-1", "tr-west-1"}
