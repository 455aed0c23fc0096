// Module sdkcheck decodes every answer of the simulator with the official Huawei Cloud Go SDK's models.
// It is a module of its own so that the SDK stays out of the exporter's go.mod; `make test` runs it.
module github.com/huaweicloud-job-exporter/huaweicloud-job-exporter/simulator/sdkcheck

go 1.26.8

require (
	github.com/huaweicloud-job-exporter/huaweicloud-job-exporter v0.0.0
	github.com/huaweicloud/huaweicloud-sdk-go-v3 v0.1.207
)

require (
	github.com/go-kit/log v0.2.1 // indirect
	github.com/go-logfmt/logfmt v0.6.1 // indirect
	github.com/json-iterator/go v1.1.13-0.20220915233716-71ac16282d12 // indirect
	github.com/modern-go/concurrent v0.0.0-20180228061459-e0a39a4cb421 // indirect
	github.com/modern-go/reflect2 v1.0.2 // indirect
	go.mongodb.org/mongo-driver v1.13.1 // indirect
	golang.org/x/time v0.15.0 // indirect
	gopkg.in/ini.v1 v1.67.0 // indirect
)

replace github.com/huaweicloud-job-exporter/huaweicloud-job-exporter => ../..
