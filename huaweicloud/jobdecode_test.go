package huaweicloud

import (
	"encoding/json"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// fastDecode runs only the fast path of decodeV1Job on a fresh wireJob.
func fastDecode(body []byte) (*wireJob, bool) {
	w := new(wireJob)
	d := jobDecoder{data: body}
	return w, d.document(w)
}

// decodeCases are documents the fast path must take (true) or leave to encoding/json (false).
var decodeCases = []struct {
	name string
	body string
	fast bool
}{
	{"plain", `{"status":"RUNNING","job_id":"j","entities":{"server_id":"s","sub_jobs_total":2,"sub_jobs":[{"status":"SUCCESS","entities":{}},{"status":null}]}}`, true},
	{"white space everywhere", " \t\r\n{ \"status\" : \"INIT\" , \"entities\" : { \"sub_jobs\" : [ ] } } \n", true},
	{"nulls", `{"status":null,"job_id":null,"entities":null,"error_code":null}`, true},
	{"null sub_jobs and total", `{"status":"X","entities":{"sub_jobs":null,"sub_jobs_total":null}}`, true},
	{"unknown keys of every kind skipped", `{"status":"X","code":null,"message":"m","n":-1.5e+3,"t":true,"f":false,"o":{"a":[1,{"b":"c"}]},"entities":{"volume_type":"SSD","size":40,"volume_ids":["a","b"]}}`, true},
	{"non-ASCII and invalid UTF-8 in a skipped string", "{\"status\":\"X\",\"name\":\"\xff\xfe\",\"other\":\"é\"}", true},
	{"valid UTF-8 text", `{"status":"X","fail_reason":"创建失败"}`, true},
	{"negative and zero totals", `{"status":"X","entities":{"sub_jobs_total":-0}}`, true},
	{"nested sub-jobs", `{"status":"X","entities":{"sub_jobs":[{"status":"Y","entities":{"sub_jobs":[{"status":"Z"}]}}]}}`, true},

	{"escaped string", `{"status":"RUN\u004eING"}`, false},
	{"escaped key", `{"st\u0061tus":"RUNNING"}`, false},
	{"escape in a skipped string", `{"status":"X","x":"a\"b"}`, false},
	{"key in other case", `{"Status":"RUNNING"}`, false},
	{"entities key in other case", `{"status":"X","entities":{"SERVER_ID":"s"}}`, false},
	{"non-ASCII key", `{"status":"X","ſtatus":"Y"}`, false},
	{"unknown key like a known one", `{"status":"X","statuses":"Y","job":"j","entities":{"sub_job":1}}`, true},
	{"every field", `{"status":"X","job_id":"a","job_type":"b","begin_time":"t","end_time":"","error_code":"c","fail_reason":"d","entities":{"server_id":"1","volume_id":"2","image_id":"3","nic_id":"4","errorcode_message":"5","server_group_id":"6","protected_instance_id":"7","replication_pair_id":"8","sub_jobs_total":1,"sub_jobs":[{}]}}`, true},
	{"duplicate key", `{"status":"X","status":"Y"}`, false},
	{"duplicate entities", `{"status":"X","entities":{},"entities":{"server_id":"s"}}`, false},
	{"number as text", `{"status":5}`, false},
	{"bool as text", `{"status":"X","job_id":true}`, false},
	{"object as text", `{"status":"X","job_type":{"a":1}}`, false},
	{"invalid UTF-8 text", "{\"status\":\"X\xff\"}", false},
	{"control character", "{\"status\":\"X\ty\"}", false},
	{"fractional total", `{"status":"X","entities":{"sub_jobs_total":2.0}}`, false},
	{"exponent total", `{"status":"X","entities":{"sub_jobs_total":1e2}}`, false},
	{"huge total", `{"status":"X","entities":{"sub_jobs_total":9223372036854775808}}`, false},
	{"leading zero", `{"status":"X","n":01}`, false},
	{"IMS field", `{"status":"X","entities":{"process_percent":0.5}}`, false},
	{"IMS list", `{"status":"X","entities":{"sub_jobs_list":["a"]}}`, false},
	{"escape after sub-jobs with missing fields", `{"status":"X","entities":{"sub_jobs":[{"job_id":"a"},{"entities":{}}]},"x":"\"q\""}`, false},
	{"sub-job not an object", `{"status":"X","entities":{"sub_jobs":[null]}}`, false},
	{"entities not an object", `{"status":"X","entities":"e"}`, false},
	{"trailing garbage", `{"status":"X"}x`, false},
	{"trailing comma", `{"status":"X",}`, false},
	{"literal with junk", `{"status":nullx}`, false},
	{"truncated", `{"status":"X"`, false},
	{"not an object", `null`, false},
	{"empty", ``, false},
	{"deep", `{"status":"X","a":` + strings.Repeat("[", 40) + strings.Repeat("]", 40) + `}`, false},

	// Hostile shapes (review of the fast path): where it decides, it decides as encoding/json does.
	{"huge number skipped", `{"status":"X","n":1` + strings.Repeat("0", 400) + `}`, true},
	{"huge exponent skipped", `{"status":"X","n":-1.5e-99999,"m":1E+99999}`, true},
	{"18-digit total", `{"status":"X","entities":{"sub_jobs_total":999999999999999999}}`, true},
	{"negative 18-digit total", `{"status":"X","entities":{"sub_jobs_total":-999999999999999999}}`, true},
	{"19-digit total", `{"status":"X","entities":{"sub_jobs_total":1000000000000000000}}`, false},
	{"exponent zero total", `{"status":"X","entities":{"sub_jobs_total":0e0}}`, false},
	{"negative exponent total", `{"status":"X","entities":{"sub_jobs_total":-1E-0}}`, false},
	{"minus alone", `{"status":"X","n":-}`, false},
	{"plus sign", `{"status":"X","n":+1}`, false},
	{"BOM", "\xef\xbb\xbf{\"status\":\"X\"}", false},
	{"NUL in a string", "{\"status\":\"X\x00\"}", false},
	{"NUL after the document", "{\"status\":\"X\"}\x00", false},
	{"form feed as white space", "{\"status\":\"X\"\f}", false},
	{"duplicate key in entities", `{"status":"X","entities":{"server_id":"a","server_id":"b"}}`, false},
	{"duplicate total", `{"status":"X","entities":{"sub_jobs_total":1,"sub_jobs_total":2}}`, false},
	{"duplicate sub_jobs", `{"status":"X","entities":{"sub_jobs":[{"status":"A"}],"sub_jobs":[{"job_id":"b"}]}}`, false},
	{"duplicate key in a sub-job", `{"status":"X","entities":{"sub_jobs":[{"status":"A","status":"B"}]}}`, false},
	{"same key in two sub-jobs", `{"status":"X","entities":{"sub_jobs":[{"status":"A"},{"status":"B"}]}}`, true},
	{"duplicate unknown key", `{"status":"X","u":1,"u":"two"}`, true},
	{"nested unknown objects within the depth", `{"status":"X","a":` + strings.Repeat(`{"b":`, 30) + `1` + strings.Repeat("}", 30) + `}`, true},
	{"nested unknown objects past the depth", `{"status":"X","a":` + strings.Repeat(`{"b":`, 40) + `1` + strings.Repeat("}", 40) + `}`, false},
	{"unbalanced nesting", `{"status":"X","a":[{"b":1]}}`, false},
	{"second document", `{"status":"X"} {}`, false},
	{"trailing bracket", `{"status":"X"}]`, false},
	{"very long strings", `{"status":"X","fail_reason":"` + strings.Repeat("é", 1<<17) + `","` + strings.Repeat("k", 1<<12) + `":"v"}`, true},
	{"empty status", `{"status":""}`, true},
	{"key with a blank", `{"status":"X","status ":"Y"}`, true},
	{"entities an array", `{"status":"X","entities":[]}`, false},
	{"sub_jobs an object", `{"status":"X","entities":{"sub_jobs":{}}}`, false},
	{"unterminated string", `{"status":"X`, false},
	{"key without value", `{"status"}`, false},
}

// TestDecodeV1JobFastPath: the documented shapes take the fast path, anything it cannot be sure of is
// left to encoding/json, and where it decides it decides as encoding/json does.
func TestDecodeV1JobFastPath(t *testing.T) {
	for _, tc := range decodeCases {
		t.Run(tc.name, func(t *testing.T) {
			_, fast := fastDecode([]byte(tc.body))
			if fast != tc.fast {
				t.Errorf("fast path %v, want %v", fast, tc.fast)
			}
			checkDecodeV1Job(t, []byte(tc.body))
		})
	}
	// Every fixture of the services that share the v1 job API, as documented, takes the fast path.
	for _, name := range []string{"ecs-createServer-success.json", "ecs-batch-partial-failure.json", "ecs-fail.json",
		"ecs-init.json", "ecs-pending-payment.json", "bms-createServer-running.json", "evs-batchCreateVolume-success.json",
		"evs-createVolume-running.json", "eip-batch-partial-failure.json", "sdrs-failover-partial-failure.json"} {
		t.Run(name, func(t *testing.T) {
			if _, fast := fastDecode(readFixture(t, name)); !fast {
				t.Error("fixture left to encoding/json")
			}
			checkDecodeV1Job(t, readFixture(t, name))
		})
	}
}

// checkDecodeV1Job compares decodeV1Job with json.Unmarshal, on a fresh and on a used pooled wireJob.
func checkDecodeV1Job(t *testing.T, body []byte) {
	t.Helper()
	var want wireJob
	wantErr := json.Unmarshal(body, &want)

	if got, fast := fastDecode(body); fast {
		if wantErr != nil {
			t.Fatalf("fast path accepted a body encoding/json rejects: %v", wantErr)
		}
		if !reflect.DeepEqual(got, &want) {
			t.Fatalf("fast path decoded\n%+v\nencoding/json\n%+v", got, &want)
		}
	}

	// Through the pool, after a job with more sub-jobs: nothing of the previous answer may remain.
	prev := newWireJob()
	if err := decodeV1Job([]byte(`{"status":"OLD","job_id":"old","entities":{"server_id":"old","sub_jobs_total":3,"sub_jobs":[{"status":"OLD","job_id":"o1","entities":{"nic_id":"n"}},{"job_type":"o2"},{"fail_reason":"o3"}]}}`), prev); err != nil {
		t.Fatal(err)
	}
	prev.release()
	w := newWireJob()
	defer w.release()
	err := decodeV1Job(body, w)
	if (err == nil) != (wantErr == nil) {
		t.Fatalf("decodeV1Job error %v, encoding/json %v", err, wantErr)
	}
	if err != nil {
		return
	}
	// A pooled slice keeps its capacity where encoding/json on a fresh struct has nil.
	if len(w.Entities.SubJobs) == 0 && len(want.Entities.SubJobs) == 0 {
		w.Entities.SubJobs, want.Entities.SubJobs = nil, nil
	}
	if !reflect.DeepEqual(w, &want) {
		t.Fatalf("decodeV1Job decoded\n%+v\nencoding/json\n%+v", w, &want)
	}
}

// FuzzDecodeV1Job holds the fast path to encoding/json's outcome on whatever it accepts.
func FuzzDecodeV1Job(f *testing.F) {
	files, err := filepath.Glob(filepath.Join(apiFixtures, "*.json"))
	if err != nil {
		f.Fatal(err)
	}
	for _, p := range files {
		f.Add(readFixture(f, filepath.Base(p)))
	}
	for _, tc := range decodeCases {
		f.Add([]byte(tc.body))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		checkDecodeV1Job(t, body)
	})
}
