package huaweicloud

import (
	"encoding/json"
	"unicode/utf8"
)

// decodeV1Job fills w from a job answer exactly as json.Unmarshal(body, w) does. Decoding every job
// answer with encoding/json was the largest part of the CPU of a query (validating the document,
// scanning it again, and a reflected UnmarshalJSON call per text field), so the answers that look as
// documented (strings without escapes, the known keys each once, the shapes of ECS, EVS, BMS, EIP
// and SDRS) are read by a small decoder of that shape. Anything else, down to an escaped quote or a
// key in other letter case, makes it give up, and encoding/json decodes the body from scratch: the
// fast path only ever accepts documents whose outcome it knows to be the same (FuzzDecodeV1Job holds it
// to that).
func decodeV1Job(body []byte, w *wireJob) error {
	d := jobDecoder{data: body}
	if d.document(w) {
		return nil
	}
	w.reset()
	return json.Unmarshal(body, w)
}

// jobDecoder reads one JSON document of the wireJob shape; every method returns false to give up.
type jobDecoder struct {
	data  []byte
	off   int
	depth int
}

// maxFastDepth is the nesting the fast path follows; deeper documents are left to encoding/json.
const maxFastDepth = 32

// The keys of wireJob and wireEntities. A key that is none of them but equals one of them ignoring
// case is one encoding/json would decode into the field: the fast path gives up on it.
var (
	jobKeys      = []string{"status", "job_id", "job_type", "begin_time", "end_time", "error_code", "fail_reason", "entities"}
	entitiesKeys = []string{"server_id", "volume_id", "image_id", "nic_id", "errorcode_message", "sub_jobs_total", "sub_jobs",
		"server_group_id", "protected_instance_id", "replication_pair_id", "process_percent", "results", "sub_jobs_result", "sub_jobs_list"}
)

func (d *jobDecoder) document(w *wireJob) bool {
	if d.peek() != '{' || !d.job(w) {
		return false
	}
	d.space()
	return d.off == len(d.data)
}

func (d *jobDecoder) space() {
	for d.off < len(d.data) {
		switch d.data[d.off] {
		case ' ', '\t', '\n', '\r':
			d.off++
		default:
			return
		}
	}
}

// peek returns the next byte after white space, 0 at the end.
func (d *jobDecoder) peek() byte {
	d.space()
	if d.off < len(d.data) {
		return d.data[d.off]
	}
	return 0
}

// next consumes c, the next byte after white space.
func (d *jobDecoder) next(c byte) bool {
	if d.peek() == c {
		d.off++
		return true
	}
	return false
}

func (d *jobDecoder) literal(lit string) bool {
	if len(d.data)-d.off < len(lit) || string(d.data[d.off:d.off+len(lit)]) != lit {
		return false
	}
	d.off += len(lit)
	return true
}

// object reads an object, calling member with the key of each member and d before its value.
func (d *jobDecoder) object(member func(key []byte) bool) bool {
	if d.depth++; d.depth > maxFastDepth || !d.next('{') {
		return false
	}
	defer func() { d.depth-- }()
	if d.next('}') {
		return true
	}
	for {
		if d.peek() != '"' {
			return false
		}
		key, ok := d.plainString()
		if !ok || !d.next(':') || !member(key) {
			return false
		}
		if !d.next(',') {
			return d.next('}')
		}
	}
}

// array reads an array, calling elem before each element.
func (d *jobDecoder) array(elem func() bool) bool {
	if d.depth++; d.depth > maxFastDepth || !d.next('[') {
		return false
	}
	defer func() { d.depth-- }()
	if d.next(']') {
		return true
	}
	for {
		if !elem() {
			return false
		}
		if !d.next(',') {
			return d.next(']')
		}
	}
}

// plainString reads a string without escapes and returns its bytes between the quotes. A control
// character makes the document invalid, and an escape is left to encoding/json.
func (d *jobDecoder) plainString() ([]byte, bool) {
	start := d.off + 1
	for i := start; i < len(d.data); i++ {
		switch c := d.data[i]; {
		case c == '"':
			d.off = i + 1
			return d.data[start:i], true
		case c == '\\' || c < 0x20:
			return nil, false
		}
	}
	return nil, false
}

// number reads a number as JSON spells it.
func (d *jobDecoder) number() ([]byte, bool) {
	data, i := d.data, d.off
	digits := func() bool {
		n := i
		for i < len(data) && '0' <= data[i] && data[i] <= '9' {
			i++
		}
		return i > n
	}
	if i < len(data) && data[i] == '-' {
		i++
	}
	switch {
	case i < len(data) && data[i] == '0':
		i++
	case !digits():
		return nil, false
	}
	if i < len(data) && data[i] == '.' {
		i++
		if !digits() {
			return nil, false
		}
	}
	if i < len(data) && (data[i] == 'e' || data[i] == 'E') {
		i++
		if i < len(data) && (data[i] == '+' || data[i] == '-') {
			i++
		}
		if !digits() {
			return nil, false
		}
	}
	tok := data[d.off:i]
	d.off = i
	return tok, true
}

// skip reads a value of a key the shape does not have.
func (d *jobDecoder) skip() bool {
	switch c := d.peek(); {
	case c == '"':
		_, ok := d.plainString()
		return ok
	case c == '{':
		return d.object(func([]byte) bool { return d.skip() })
	case c == '[':
		return d.array(d.skip)
	case c == 't':
		return d.literal("true")
	case c == 'f':
		return d.literal("false")
	case c == 'n':
		return d.literal("null")
	case c == '-' || '0' <= c && c <= '9':
		_, ok := d.number()
		return ok
	}
	return false
}

// other skips the value of a key that is not one of keys, unless encoding/json would match it to one of
// them (ignoring case, with Unicode folding for non-ASCII keys).
func (d *jobDecoder) other(key []byte, keys []string) bool {
	for _, c := range key {
		if c >= utf8.RuneSelf {
			return false
		}
	}
	for _, k := range keys {
		if equalFoldASCII(key, k) {
			return false
		}
	}
	return d.skip()
}

func equalFoldASCII(b []byte, s string) bool {
	if len(b) != len(s) {
		return false
	}
	for i, c := range b {
		if lowerASCII(c) != lowerASCII(s[i]) {
			return false
		}
	}
	return true
}

func lowerASCII(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

// text reads what (*text).UnmarshalJSON turns into the same value without the decoder: null and plain
// strings of valid UTF-8.
func (d *jobDecoder) text(t *text) bool {
	switch d.peek() {
	case 'n':
		*t = ""
		return d.literal("null")
	case '"':
		s, ok := d.plainString()
		if !ok || !utf8.Valid(s) {
			return false
		}
		*t = plainText(s)
		return true
	}
	return false
}

// textPtr reads a *text field: null leaves it nil, as encoding/json does.
func (d *jobDecoder) textPtr(p **text) bool {
	if d.peek() == 'n' {
		*p = nil
		return d.literal("null")
	}
	t := new(text)
	*p = t
	return d.text(t)
}

// job reads a wireJob object.
func (d *jobDecoder) job(w *wireJob) bool {
	var seen uint
	return d.object(func(key []byte) bool {
		var bit uint
		switch string(key) {
		case "status":
			bit = 1 << 0
		case "job_id":
			bit = 1 << 1
		case "job_type":
			bit = 1 << 2
		case "begin_time":
			bit = 1 << 3
		case "end_time":
			bit = 1 << 4
		case "error_code":
			bit = 1 << 5
		case "fail_reason":
			bit = 1 << 6
		case "entities":
			bit = 1 << 7
		default:
			return d.other(key, jobKeys)
		}
		// A repeated key would overwrite or merge: encoding/json's business.
		if seen&bit != 0 {
			return false
		}
		seen |= bit
		switch bit {
		case 1 << 0:
			return d.textPtr(&w.Status)
		case 1 << 1:
			return d.text(&w.JobID)
		case 1 << 2:
			return d.text(&w.JobType)
		case 1 << 3:
			return d.text(&w.BeginTime)
		case 1 << 4:
			return d.text(&w.EndTime)
		case 1 << 5:
			return d.text(&w.ErrorCode)
		case 1 << 6:
			return d.text(&w.FailReason)
		}
		return d.entities(&w.Entities)
	})
}

// entities reads a wireEntities object; null leaves it as it is. IMS's fields are left to encoding/json.
func (d *jobDecoder) entities(e *wireEntities) bool {
	if d.peek() == 'n' {
		return d.literal("null")
	}
	var seen uint
	return d.object(func(key []byte) bool {
		var bit uint
		var t *text
		switch string(key) {
		case "server_id":
			bit, t = 1<<0, &e.ServerID
		case "volume_id":
			bit, t = 1<<1, &e.VolumeID
		case "image_id":
			bit, t = 1<<2, &e.ImageID
		case "nic_id":
			bit, t = 1<<3, &e.NicID
		case "errorcode_message":
			bit, t = 1<<4, &e.ErrorcodeMessage
		case "server_group_id":
			bit, t = 1<<5, &e.ServerGroupID
		case "protected_instance_id":
			bit, t = 1<<6, &e.ProtectedInstanceID
		case "replication_pair_id":
			bit, t = 1<<7, &e.ReplicationPairID
		case "sub_jobs_total":
			bit = 1 << 8
		case "sub_jobs":
			bit = 1 << 9
		default:
			return d.other(key, entitiesKeys) // process_percent, results ... included: they give up
		}
		if seen&bit != 0 {
			return false
		}
		seen |= bit
		switch {
		case t != nil:
			return d.text(t)
		case bit == 1<<8:
			return d.count(&e.SubJobsTotal)
		}
		return d.subJobs(&e.SubJobs)
	})
}

// count reads sub_jobs_total: null, or an integer that fits (encoding/json rejects the others).
func (d *jobDecoder) count(p **int) bool {
	if d.peek() == 'n' {
		*p = nil
		return d.literal("null")
	}
	tok, ok := d.number()
	if !ok {
		return false
	}
	neg := tok[0] == '-'
	if neg {
		tok = tok[1:]
	}
	if len(tok) > 18 { // beyond 18 digits overflow is possible: encoding/json's business
		return false
	}
	n := 0
	for _, c := range tok {
		if c < '0' || c > '9' { // a fraction or an exponent
			return false
		}
		n = n*10 + int(c-'0')
	}
	if neg {
		n = -n
	}
	*p = &n
	return true
}

// subJobs reads entities.sub_jobs: null clears it, an array of objects fills it (an empty array is an
// empty slice, not nil, as with encoding/json).
func (d *jobDecoder) subJobs(p *[]wireJob) bool {
	if d.peek() == 'n' {
		*p = nil
		return d.literal("null")
	}
	subs := (*p)[:0]
	if subs == nil {
		subs = []wireJob{}
	}
	ok := d.array(func() bool {
		if d.peek() != '{' {
			return false
		}
		subs = append(subs, wireJob{})
		return d.job(&subs[len(subs)-1])
	})
	*p = subs
	return ok
}
