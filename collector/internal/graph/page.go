package graph

import "encoding/json"

// checkPage makes sure that body, known to be valid JSON, is what every Graph collection
// response is: an object whose "value" is an array of objects. The SDK reads `null`, `[]`,
// `{}` or `{"value":null}` as an empty page, which would be served as an empty tenant, and hands
// a `null` item on as a nil record, which panics whoever reads it.
//
// It looks at the top level and at the first byte of each item only, in one pass over the
// bytes, so that it costs little beside the SDK's own parsing of the page.
func checkPage(body []byte) error {
	s := jsonScanner{b: body}
	if c := s.peek(); c != '{' {
		return MalformedError("Graph answered with %s, not a collection page (an object with a value array)", kindOf(c))
	}
	s.i++
	values := 0
	for {
		switch s.peek() {
		case '}':
			if values == 0 {
				return MalformedError("Graph answered with an object without a value array, not a collection page")
			}
			return nil
		case ',':
			s.i++
			continue
		}
		key := s.key()
		if key != "value" {
			s.skipValue()
			continue
		}
		if values++; values > 1 {
			return MalformedError("Graph sent a page with two value arrays")
		}
		if err := s.checkItems(); err != nil {
			return err
		}
	}
}

// checkObject makes sure that body, known to be valid JSON, is an object: the SDK reads `null`
// as no answer and `[]` or a scalar as an object without properties.
func checkObject(body []byte) error {
	s := jsonScanner{b: body}
	if c := s.peek(); c != '{' {
		return MalformedError("Graph answered with %s, not an object", kindOf(c))
	}
	return nil
}

// checkItems reads the array at the scanner's position and checks that every item is an object.
func (s *jsonScanner) checkItems() error {
	if c := s.peek(); c != '[' {
		return MalformedError("Graph sent a page whose value is %s, not an array", kindOf(c))
	}
	s.i++
	for items := 0; ; {
		switch c := s.peek(); c {
		case ']':
			s.i++
			return nil
		case ',':
			s.i++
		case '{':
			s.skipValue()
			items++
		default:
			return MalformedError("item %d of a page is %s, not a record", items+1, kindOf(c))
		}
	}
}

// kindOf names the JSON value that starts with c.
func kindOf(c byte) string {
	switch c {
	case 'n':
		return "null"
	case 't', 'f':
		return "a boolean"
	case '"':
		return "a string"
	case '[':
		return "an array"
	case '{':
		return "an object"
	}
	return "a number"
}

// jsonScanner walks a valid JSON document byte by byte.
type jsonScanner struct {
	b []byte
	i int
}

// peek skips white space and returns the next byte (0 at the end).
func (s *jsonScanner) peek() byte {
	for s.i < len(s.b) {
		switch c := s.b[s.i]; c {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return c
		}
	}
	return 0
}

// key reads an object's key and the colon after it.
func (s *jsonScanner) key() string {
	s.peek()
	start := s.i
	escaped := s.skipString()
	raw := s.b[start:s.i]
	s.peek()
	s.i++ // the colon
	if !escaped {
		return string(raw[1 : len(raw)-1])
	}
	var key string
	_ = json.Unmarshal(raw, &key) // valid JSON: a string decodes
	return key
}

// skipString moves past the string that starts at the scanner's position and says whether it
// held an escape.
func (s *jsonScanner) skipString() bool {
	escaped := false
	for s.i++; s.i < len(s.b); s.i++ {
		switch s.b[s.i] {
		case '\\':
			escaped = true
			s.i++
		case '"':
			s.i++
			return escaped
		}
	}
	return escaped
}

// skipValue moves past the value that starts at the scanner's position.
func (s *jsonScanner) skipValue() {
	depth := 0
	for s.peek() != 0 {
		switch s.b[s.i] {
		case '"':
			s.skipString()
			if depth == 0 {
				return
			}
			continue
		case '{', '[':
			depth++
		case '}', ']':
			depth--
			if depth <= 0 {
				s.i++
				return
			}
		case ',':
			if depth == 0 {
				return
			}
		}
		s.i++
		if depth == 0 && s.i < len(s.b) && !isLiteralByte(s.b[s.i]) {
			return // the end of a number, true, false or null
		}
	}
}

func isLiteralByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '.' || c == '-' || c == '+' || c == 'E'
}
