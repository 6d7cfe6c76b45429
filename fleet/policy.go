package fleet

import (
	"context"
	"errors"
	"fmt"

	"github.com/nats-io/nats.go/jetstream"
)

// PolicyBucketConfig is the central policy's bucket: the last ten
// revisions, on disk.
func PolicyBucketConfig() jetstream.KeyValueConfig {
	return jetstream.KeyValueConfig{Bucket: PolicyBucket, History: 10, Storage: jetstream.FileStorage,
		Description: "egresswatch policy for every sensor (egresswatch policy push)"}
}

// PushPolicy stores a policy (validated by the caller) as the fleet's
// policy and returns its revision.
func PushPolicy(ctx context.Context, js jetstream.JetStream, data []byte) (uint64, error) {
	kv, err := js.CreateOrUpdateKeyValue(ctx, PolicyBucketConfig())
	if err != nil {
		return 0, fmt.Errorf("policy bucket %s: %w", PolicyBucket, err)
	}
	rev, err := kv.Put(ctx, PolicyKey, data)
	if err != nil {
		return 0, fmt.Errorf("store policy: %w", err)
	}
	return rev, nil
}

// ErrNoPolicy: the bucket holds no policy (nothing was pushed).
var ErrNoPolicy = errors.New("no policy in the fleet's bucket (egresswatch policy push FILE)")

// GetPolicy returns the fleet's policy and its revision.
func GetPolicy(ctx context.Context, js jetstream.JetStream) ([]byte, uint64, error) {
	kv, err := js.KeyValue(ctx, PolicyBucket)
	if errors.Is(err, jetstream.ErrBucketNotFound) {
		return nil, 0, ErrNoPolicy
	}
	if err != nil {
		return nil, 0, fmt.Errorf("policy bucket %s: %w", PolicyBucket, err)
	}
	e, err := kv.Get(ctx, PolicyKey)
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return nil, 0, ErrNoPolicy
	}
	if err != nil {
		return nil, 0, fmt.Errorf("get policy: %w", err)
	}
	return e.Value(), e.Revision(), nil
}

// WatchPolicy calls f with each revision of the policy stored after
// after, until ctx is done.
func WatchPolicy(ctx context.Context, js jetstream.JetStream, after uint64, f func(data []byte, rev uint64)) error {
	kv, err := js.KeyValue(ctx, PolicyBucket)
	if err != nil {
		return fmt.Errorf("policy bucket %s: %w", PolicyBucket, err)
	}
	w, err := kv.Watch(ctx, PolicyKey)
	if err != nil {
		return fmt.Errorf("watch policy: %w", err)
	}
	defer w.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case e, ok := <-w.Updates():
			if !ok {
				return nil
			}
			if e == nil || e.Operation() != jetstream.KeyValuePut || e.Revision() <= after {
				continue
			}
			after = e.Revision()
			f(e.Value(), e.Revision())
		}
	}
}
