package audit

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"log/slog"
	"time"
)

// Checkpoint is a signed statement of the chain's head at a time. Logged
// to an external system, checkpoints prove later that the log up to them
// was not rewritten: `atrium audit verify --expect SEQ:HASH` checks the
// stored chain still passes through each.
type Checkpoint struct {
	Seq  int64     `json:"seq"`
	Hash string    `json:"hash"`
	Time time.Time `json:"time"`
	// Signature is Ed25519 over Payload, base64.
	Signature string `json:"signature"`
	// PublicKey is the signing key's public half, base64.
	PublicKey string `json:"publicKey"`
}

// Payload is the byte string a checkpoint's signature covers.
func (c Checkpoint) Payload() []byte {
	return fmt.Appendf(nil, "atrium-audit-checkpoint:v1:%d:%s:%d", c.Seq, c.Hash, c.Time.UnixMicro())
}

// VerifySignature reports whether the checkpoint's signature is valid for
// its own public key; compare PublicKey with the one you trust, too.
func (c Checkpoint) VerifySignature() bool {
	pub, err := base64.StdEncoding.DecodeString(c.PublicKey)
	if err != nil || len(pub) != ed25519.PublicKeySize {
		return false
	}
	sig, err := base64.StdEncoding.DecodeString(c.Signature)
	if err != nil {
		return false
	}
	return ed25519.Verify(ed25519.PublicKey(pub), c.Payload(), sig)
}

// SigningKey returns the key for checkpoints: from seed (a base64 32-byte
// Ed25519 seed), or a new random key when seed is empty.
func SigningKey(seed string) (ed25519.PrivateKey, error) {
	if seed == "" {
		_, key, err := ed25519.GenerateKey(rand.Reader)
		return key, err
	}
	b, err := base64.StdEncoding.DecodeString(seed)
	if err != nil || len(b) != ed25519.SeedSize {
		return nil, fmt.Errorf("audit signing key: want a base64 Ed25519 seed of %d bytes", ed25519.SeedSize)
	}
	return ed25519.NewKeyFromSeed(b), nil
}

// Sign makes the checkpoint for the chain's current head.
func Sign(ctx context.Context, st Store, key ed25519.PrivateKey, now time.Time) (Checkpoint, error) {
	head, err := st.ReadAuditHead(ctx)
	if err != nil {
		return Checkpoint{}, err
	}
	c := Checkpoint{Seq: head.Seq, Hash: head.Hash, Time: now.UTC().Truncate(time.Microsecond),
		PublicKey: base64.StdEncoding.EncodeToString(key.Public().(ed25519.PublicKey))}
	c.Signature = base64.StdEncoding.EncodeToString(ed25519.Sign(key, c.Payload()))
	return c, nil
}

// RunCheckpoints logs a signed checkpoint at start and then every
// interval, until ctx ends. Every replica logs its own; they agree on the
// chain, so any of them proves it.
func RunCheckpoints(ctx context.Context, st Store, key ed25519.PrivateKey, interval time.Duration, log *slog.Logger) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		c, err := Sign(ctx, st, key, time.Now())
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			log.Error("audit: cannot make a checkpoint", "err", err)
		} else {
			log.Info("audit checkpoint", "seq", c.Seq, "hash", c.Hash, "checkpointTime", c.Time,
				"signature", c.Signature, "publicKey", c.PublicKey)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
