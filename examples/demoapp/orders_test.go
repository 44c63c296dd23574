package demoapp

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/slickenv/slickenv/internal/testenv"
)

// testDatabase creates a database of its own (test packages share one
// server) and returns its URL.
func testDatabase(t *testing.T) string {
	t.Helper()
	admin := testenv.Postgres(t)
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, admin)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	name := fmt.Sprintf("demoapp_%d", time.Now().UnixNano())
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		conn, err := pgx.Connect(context.Background(), admin)
		if err != nil {
			t.Error(err)
			return
		}
		defer conn.Close(context.Background())
		if _, err := conn.Exec(context.Background(), "DROP DATABASE "+name+" WITH (FORCE)"); err != nil {
			t.Error(err)
		}
	})
	u, err := url.Parse(admin)
	if err != nil {
		t.Fatal(err)
	}
	u.Path = "/" + name
	return u.String()
}

func TestOrders(t *testing.T) {
	databaseURL := testDatabase(t)
	orders, err := OpenOrders(context.Background(), databaseURL)
	if err != nil {
		t.Fatal(err)
	}
	defer orders.Close()
	// A second open finds the table and leaves it alone (two children
	// start side by side during a handoff).
	again, err := OpenOrders(context.Background(), databaseURL)
	if err != nil {
		t.Fatalf("second open: %v", err)
	}
	again.Close()
	srv := httptest.NewServer(orders.Handler())
	defer srv.Close()

	resp, err := http.Post(srv.URL+"/orders", "application/json", strings.NewReader(`{"sku":"tea"}`))
	if err != nil {
		t.Fatal(err)
	}
	var created Order
	json.NewDecoder(resp.Body).Decode(&created)
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated || created.ID == 0 || created.SKU != "tea" {
		t.Fatalf("POST /orders = %d %+v", resp.StatusCode, created)
	}

	tests := []struct {
		method, path, body string
		want               int
	}{
		{"GET", fmt.Sprintf("/orders/%d", created.ID), "", http.StatusOK},
		{"GET", "/orders/999999999", "", http.StatusNotFound},
		{"GET", "/orders/x", "", http.StatusBadRequest},
		{"POST", "/orders", `{}`, http.StatusBadRequest},
		{"POST", "/orders", `not json`, http.StatusBadRequest},
		{"GET", "/healthz", "", http.StatusOK},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.path+" "+tt.body, func(t *testing.T) {
			req, _ := http.NewRequest(tt.method, srv.URL+tt.path, strings.NewReader(tt.body))
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			if resp.StatusCode != tt.want {
				t.Errorf("status = %d, want %d", resp.StatusCode, tt.want)
			}
			if tt.want == http.StatusOK && strings.HasPrefix(tt.path, "/orders/") {
				var got Order
				json.NewDecoder(resp.Body).Decode(&got)
				if got.ID != created.ID || got.SKU != "tea" {
					t.Errorf("got %+v, want %+v", got, created)
				}
			}
		})
	}

	// Once the database is gone, /healthz says so.
	orders.Close()
	resp, err = http.Get(srv.URL + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("healthz with the pool closed = %d, want 503", resp.StatusCode)
	}
}

func TestOpenOrdersHidesConnectionString(t *testing.T) {
	_, err := OpenOrders(context.Background(), "postgres://app:s3cr3t-pw@[::1/db")
	if err == nil || strings.Contains(err.Error(), "s3cr3t-pw") {
		t.Errorf("error = %v; want an error without the password", err)
	}
}

func TestRunOrdersShutsDownGracefully(t *testing.T) {
	databaseURL := testDatabase(t)
	ctx, cancel := context.WithCancel(context.Background())
	addr := freeAddr(t)
	done := make(chan error, 1)
	go func() { done <- RunOrders(ctx, databaseURL, Options{Listen: addr}) }()
	deadline := time.Now().Add(10 * time.Second)
	for {
		resp, err := http.Get("http://" + addr + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("not healthy within 10s: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("RunOrders = %v, want nil after a graceful shutdown", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("RunOrders did not return after cancel")
	}
}

// freeAddr returns a loopback address nobody listens on right now.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}
