package fakegraph

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"unicode/utf8"
)

// graphMessage is a request the fake refuses, with the message Graph would send: Graph's
// messages are capitalised and end with a full stop, which Go's error strings are not.
type graphMessage string

func (m graphMessage) Error() string { return string(m) }

// refuse makes the error of a refused request from Graph's message.
func refuse(format string, args ...any) error { return graphMessage(fmt.Sprintf(format, args...)) }

// listQuery is what a list request asked for.
type listQuery struct {
	top    int
	offset int             // where the page starts in the filtered list, from $skiptoken
	fields map[string]bool // from $select; nil means every field
}

// parseList reads $top, $select and $skiptoken. Graph caps $top at maxTop and rejects
// a larger one on some APIs; this fake clamps it, as the reports do.
func parseList(r *http.Request, defaultTop, maxTop int) (listQuery, error) {
	q := listQuery{top: defaultTop}
	v := r.URL.Query()
	if t := v.Get("$top"); t != "" {
		n, err := strconv.Atoi(t)
		if err != nil || n < 1 {
			return q, refuse("invalid value '%s' for query parameter '$top'", t)
		}
		q.top = min(n, maxTop)
	}
	if sel := v.Get("$select"); sel != "" {
		q.fields = map[string]bool{"id": true}
		for _, f := range strings.Split(sel, ",") {
			q.fields[strings.TrimSpace(f)] = true
		}
	}
	if tok := v.Get("$skiptoken"); tok != "" {
		raw, err := base64.RawURLEncoding.DecodeString(tok)
		n, err2 := strconv.Atoi(strings.TrimPrefix(string(raw), "offset:"))
		if err != nil || err2 != nil || n < 0 {
			return q, refuse("invalid $skiptoken '%s'", tok)
		}
		q.offset = n
	}
	return q, nil
}

// writePage writes the page of a list of total items that q asks for, with an absolute
// @odata.nextLink when more follow; item writes the k-th item of the list. The envelope is
// GD concepts/paging.md's: @odata.context, @odata.nextLink (the full URL of the next page) and
// value.
func (s *Server) writePage(w http.ResponseWriter, r *http.Request, context string, q listQuery, total int, item func(k int, o *object)) {
	end := min(q.offset+q.top, total)
	buf := make([]byte, 0, 64*1024)
	buf = append(buf, `{"@odata.context":`...)
	buf = appendString(buf, s.URL+context)
	if end < total {
		next := r.URL.Query()
		next.Set("$skiptoken", base64.RawURLEncoding.EncodeToString([]byte("offset:"+strconv.Itoa(end))))
		buf = append(buf, `,"@odata.nextLink":`...)
		buf = appendString(buf, s.URL+r.URL.Path+"?"+next.Encode())
	}
	buf = append(buf, `,"value":[`...)
	o := &object{fields: q.fields}
	for k := q.offset; k < end; k++ {
		if k > q.offset {
			buf = append(buf, ',')
		}
		o.buf, o.n = buf, 0
		o.buf = append(o.buf, '{')
		item(k, o)
		buf = append(o.buf, '}')
	}
	buf = append(buf, "]}"...)
	w.Header().Set("Content-Type", "application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8")
	writeBody(w, buf)
}

// object writes one JSON object's fields, leaving out those $select did not ask for.
type object struct {
	buf    []byte
	n      int
	fields map[string]bool
}

func (o *object) key(k string) bool {
	if o.fields != nil && !o.fields[k] {
		return false
	}
	if o.n > 0 {
		o.buf = append(o.buf, ',')
	}
	o.n++
	o.buf = appendString(o.buf, k)
	o.buf = append(o.buf, ':')
	return true
}

func (o *object) Str(k, v string) {
	if o.key(k) {
		o.buf = appendString(o.buf, v)
	}
}

func (o *object) Bool(k string, v bool) {
	if o.key(k) {
		o.buf = strconv.AppendBool(o.buf, v)
	}
}

func (o *object) Int(k string, v int64) {
	if o.key(k) {
		o.buf = strconv.AppendInt(o.buf, v, 10)
	}
}

func (o *object) Null(k string) {
	if o.key(k) {
		o.buf = append(o.buf, "null"...)
	}
}

func (o *object) Strs(k string, vs []string) {
	if o.key(k) {
		o.buf = append(o.buf, '[')
		for i, v := range vs {
			if i > 0 {
				o.buf = append(o.buf, ',')
			}
			o.buf = appendString(o.buf, v)
		}
		o.buf = append(o.buf, ']')
	}
}

// JSON writes v as encoding/json renders it: for shapes kept as Go structs (policies.go).
// $select does not reach into it.
func (o *object) JSON(k string, v any) {
	if o.key(k) {
		data, err := json.Marshal(v)
		if err != nil {
			panic(fmt.Sprintf("fakegraph: %s does not marshal: %v", k, err)) // the fake's own types always do
		}
		o.buf = append(o.buf, data...)
	}
}

// Object writes a nested object built by fill; $select does not reach into it.
func (o *object) Object(k string, fill func(*object)) {
	if o.key(k) {
		inner := &object{buf: append(o.buf, '{')}
		fill(inner)
		o.buf = append(inner.buf, '}')
	}
}

// appendString appends s as a JSON string.
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	for _, r := range s {
		switch {
		case r == '"' || r == '\\':
			b = append(b, '\\', byte(r))
		case r < 0x20:
			b = append(b, fmt.Sprintf(`\u%04x`, r)...)
		default:
			b = utf8.AppendRune(b, r)
		}
	}
	return append(b, '"')
}

func quote(s string) string { return string(appendString(nil, s)) }
