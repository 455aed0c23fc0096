package simulator

// The identity of the demo cloud that the exporter's --demo and cmd/hwsim start. These credentials open
// nothing but a loopback simulator.
const (
	DemoAccessKey = "DEMOACCESSKEY0000001"
	DemoSecretKey = "DemoSecretKeyOnlyForTheLoopbackSimulator"
	DemoProjectID = "0123456789abcdef0123456789abcdef"
	DemoRegion    = "ap-southeast-1"
)
