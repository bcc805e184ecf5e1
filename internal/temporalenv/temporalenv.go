// Package temporalenv connects to Temporal with the SDK's environment names
// (design.md section 7): TEMPORAL_ADDRESS and TEMPORAL_NAMESPACE.
//
// It imports the Temporal SDK and nothing of ours.
package temporalenv

import (
	"errors"
	"fmt"
	"os"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/log"
)

// Dial connects to TEMPORAL_ADDRESS in TEMPORAL_NAMESPACE ("default" when
// unset); logger may be nil for the SDK's default.
func Dial(logger log.Logger) (client.Client, error) {
	addr := os.Getenv("TEMPORAL_ADDRESS")
	if addr == "" {
		return nil, errors.New("connect to Temporal: TEMPORAL_ADDRESS is not set: run 'make stack' and '. .run/env', or point it at your Temporal frontend")
	}
	c, err := client.Dial(client.Options{
		HostPort:  addr,
		Namespace: os.Getenv("TEMPORAL_NAMESPACE"),
		Logger:    logger,
	})
	if err != nil {
		return nil, fmt.Errorf("connect to Temporal at %s: %w", addr, err)
	}
	return c, nil
}
