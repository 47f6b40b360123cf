package main

import (
	"bufio"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"
)

// An idle keep-alive connection is closed after webTimeouts.idle (the first release kept 300 of
// them open indefinitely). The timeout is shortened for the test; the server is the one run uses.
func TestIdleConnectionsAreClosed(t *testing.T) {
	saved := webTimeouts
	t.Cleanup(func() { webTimeouts = saved })
	webTimeouts.idle = 300 * time.Millisecond

	handler, err := newHandler("/metrics", http.NotFoundHandler(), func() bool { return true }, http.NotFoundHandler())
	if err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	server := newServer(handler)
	go func() { _ = server.Serve(l) }()
	t.Cleanup(func() { _ = server.Close() })

	conn, err := net.Dial("tcp", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = conn.Close() }()
	if _, err := io.WriteString(conn, "GET /-/healthy HTTP/1.1\r\nHost: exporter\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	reader := bufio.NewReader(conn)
	resp, err := http.ReadResponse(reader, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(io.Discard, resp.Body); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /-/healthy: %d, %v", resp.StatusCode, err)
	}
	idle := time.Now()
	if err := conn.SetReadDeadline(time.Now().Add(5 * time.Second)); err != nil {
		t.Fatal(err)
	}
	_, err = reader.ReadByte()
	var timeout net.Error
	if errors.As(err, &timeout) && timeout.Timeout() {
		t.Fatalf("the idle connection was still open after 5s, want it closed after %v", webTimeouts.idle)
	}
	if err != io.EOF {
		t.Fatalf("reading from the idle connection: %v, want EOF", err)
	}
	if took := time.Since(idle); took < webTimeouts.idle {
		t.Errorf("the connection was closed after %v, before the idle timeout", took)
	}
}

// The mux answers only its own paths, for GET and HEAD.
func TestHandlerServesOnlyItsPaths(t *testing.T) {
	ready := false
	metrics := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "metrics") })
	for _, metricsPath := range []string{"/metrics", "/"} {
		handler, err := newHandler(metricsPath, metrics, func() bool { return ready }, http.NotFoundHandler())
		if err != nil {
			t.Fatal(err)
		}
		for _, tc := range []struct {
			method, path string
			status       int
		}{
			{http.MethodGet, metricsPath, 200},
			{http.MethodHead, metricsPath, 200},
			{http.MethodPost, metricsPath, 405},
			{http.MethodGet, "/", 200},
			{http.MethodGet, healthyPath, 200},
			{http.MethodGet, readyPath, 503},
			{http.MethodGet, "/debug/vars", 404},
			{http.MethodGet, "/metrics/x", 404},
			{http.MethodGet, "/index.html", 404},
		} {
			rec := httptest.NewRecorder()
			handler.ServeHTTP(rec, httptest.NewRequest(tc.method, tc.path, nil))
			if rec.Code != tc.status {
				t.Errorf("telemetry path %s: %s %s answered %d, want %d", metricsPath, tc.method, tc.path, rec.Code, tc.status)
			}
		}
	}
	ready = true
	handler, _ := newHandler("/metrics", metrics, func() bool { return ready }, http.NotFoundHandler())
	rec := httptest.NewRecorder()
	handler.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, readyPath, nil))
	if rec.Code != http.StatusOK {
		t.Errorf("%s answered %d once ready, want 200", readyPath, rec.Code)
	}
}

func TestCheckTelemetryPath(t *testing.T) {
	for path, ok := range map[string]bool{
		"/": true, "/metrics": true, "/entra/metrics": true, "/a-b_c.d~e": true, "/debug/requests": true,
		"": false, "metrics": false, "//": false, "/%zz": false, "/a b": false, "/{x}": false, "/a\x01": false,
		"/metrics/": false, "/a/./b": false, "/a/../b": false, "/a//b": false, `/"><script>`: false, "/mé": false,
		healthyPath: false, readyPath: false,
	} {
		if err := checkTelemetryPath(path); (err == nil) != ok {
			t.Errorf("checkTelemetryPath(%q) = %v, want ok=%t", path, err, ok)
		}
	}
}

func TestCheckWebConfig(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		path := dir + "/" + name
		if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}
	hash, err := bcrypt.GenerateFromPassword([]byte("secret"), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	for file, ok := range map[string]bool{
		"": true, // no web config: plain HTTP, as asked
		write("auth.yml", "basic_auth_users:\n  prometheus: "+string(hash)+"\n"): true,
		write("empty.yml", ""):                 false,
		write("comments.yml", "# TLS later\n"): false,
		write("null.yml", "---\n"):             false,
		dir:                                    false,
		"/dev/null":                            false,
		dir + "/missing.yml":                   false,
		write("unknown.yml", "basic_auth_user: {}\n"): false,
	} {
		if err := checkWebConfig(file); (err == nil) != ok {
			t.Errorf("checkWebConfig(%q) = %v, want ok=%t", file, err, ok)
		}
	}
}
