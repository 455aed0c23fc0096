// Package sdkcheck holds only a test: it starts the simulator (package simulator of the exporter) with
// every scenario it has and decodes each job answer and CTS page it serves with the official Huawei Cloud
// Go SDK's response models and error handler (github.com/huaweicloud/huaweicloud-sdk-go-v3), the way the
// SDK's own HTTP client would. An answer fails the check when the SDK cannot decode it, when it carries a
// JSON field the model does not have, or when an enumerated field holds a value the service's documents
// do not list.
//
// It is a module of its own so that the SDK, with its dependencies, stays out of the exporter's go.mod.
// It never builds an SDK client or credential provider: those look for credentials, some of them at the
// metadata address 169.254.169.254. Only model types, core/utils (the SDK's JSON decoding) and
// core/sdkerr (its error handler) are used, over loopback HTTP.
package sdkcheck
