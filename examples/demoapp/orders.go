package demoapp

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// DatabaseURLVar names the variable holding the PostgreSQL connection string
// of the orders mode.
const DatabaseURLVar = "DATABASE_URL"

// queryTimeout bounds every database call of a request, so a stuck database
// shows up as a 503 instead of a hung client.
const queryTimeout = 5 * time.Second

// createOrders runs at start. IF NOT EXISTS makes it safe for two children
// starting side by side during a handoff.
const createOrders = `CREATE TABLE IF NOT EXISTS orders (
	id         bigserial PRIMARY KEY,
	sku        text NOT NULL,
	created_at timestamptz NOT NULL DEFAULT now()
)`

// Order is one row of the orders table, as the API returns it.
type Order struct {
	ID        int64     `json:"id"`
	SKU       string    `json:"sku"`
	CreatedAt time.Time `json:"created_at"`
}

// Orders serves a tiny orders API on a PostgreSQL pool. It is safe for
// concurrent use.
type Orders struct {
	pool *pgxpool.Pool
}

// OpenOrders connects to databaseURL, checks that it can log in, and creates
// the orders table if it is missing. The caller closes the result. Errors
// never contain the connection string.
func OpenOrders(ctx context.Context, databaseURL string) (*Orders, error) {
	cfg, err := pgxpool.ParseConfig(databaseURL)
	if err != nil {
		// pgx's parse errors may quote the string, password included.
		return nil, fmt.Errorf("parse %s: invalid connection string", DatabaseURLVar)
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("connect: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, 2*queryTimeout)
	defer cancel()
	if _, err := pool.Exec(ctx, createOrders); err != nil {
		pool.Close()
		return nil, fmt.Errorf("create table orders: %w", err)
	}
	if err := warm(ctx, pool); err != nil {
		pool.Close()
		return nil, err
	}
	return &Orders{pool: pool}, nil
}

// warm opens every connection of the pool now. A new process that takes
// over a live socket then serves its first requests on open connections,
// instead of making them wait for logins (SCRAM costs CPU on both sides).
func warm(ctx context.Context, pool *pgxpool.Pool) error {
	conns := make([]*pgxpool.Conn, 0, pool.Config().MaxConns)
	defer func() {
		for _, c := range conns {
			c.Release()
		}
	}()
	for range pool.Config().MaxConns {
		c, err := pool.Acquire(ctx)
		if err != nil {
			return fmt.Errorf("connect: %w", err)
		}
		conns = append(conns, c)
	}
	return nil
}

// Close waits for the connections in use to be released and closes them all,
// ending this process's database sessions.
func (o *Orders) Close() { o.pool.Close() }

// Handler serves GET /orders/{id}, POST /orders (JSON body {"sku": "…"},
// 201 with the new order) and GET /healthz (200 when the database answers,
// 503 otherwise).
func (o *Orders) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /orders/{id}", o.serveGet)
	mux.HandleFunc("POST /orders", o.servePost)
	mux.HandleFunc("GET /healthz", o.serveHealth)
	return mux
}

func (o *Orders) serveGet(w http.ResponseWriter, r *http.Request) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		http.Error(w, "invalid order id", http.StatusBadRequest)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), queryTimeout)
	defer cancel()
	var order Order
	err = o.pool.QueryRow(ctx, `SELECT id, sku, created_at FROM orders WHERE id = $1`, id).
		Scan(&order.ID, &order.SKU, &order.CreatedAt)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		http.Error(w, "no such order", http.StatusNotFound)
	case err != nil:
		databaseError(w)
	default:
		writeJSON(w, http.StatusOK, order)
	}
}

func (o *Orders) servePost(w http.ResponseWriter, r *http.Request) {
	var in struct {
		SKU string `json:"sku"`
	}
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 4096)).Decode(&in); err != nil || in.SKU == "" {
		http.Error(w, `body must be {"sku": "…"}`, http.StatusBadRequest)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), queryTimeout)
	defer cancel()
	order := Order{SKU: in.SKU}
	err := o.pool.QueryRow(ctx, `INSERT INTO orders (sku) VALUES ($1) RETURNING id, created_at`, in.SKU).
		Scan(&order.ID, &order.CreatedAt)
	if err != nil {
		databaseError(w)
		return
	}
	writeJSON(w, http.StatusCreated, order)
}

func (o *Orders) serveHealth(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), queryTimeout)
	defer cancel()
	if err := o.pool.Ping(ctx); err != nil {
		databaseError(w)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, map[string]string{"database": "ok"})
}

// databaseError answers 503: the request may succeed later. The error itself
// stays in the server (it may name hosts and roles).
func databaseError(w http.ResponseWriter) {
	http.Error(w, "database unavailable", http.StatusServiceUnavailable)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}
