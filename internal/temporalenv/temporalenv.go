// Package temporalenv connects to Temporal with the SDK's environment
// configuration (go.temporal.io/sdk/contrib/envconfig): TEMPORAL_ADDRESS,
// TEMPORAL_NAMESPACE, TEMPORAL_API_KEY, TEMPORAL_TLS_* (client certificate
// and key, server CA, server name), TEMPORAL_GRPC_META_*, and the profiles
// of a TEMPORAL_CONFIG_FILE, for a local dev server, a self-hosted cluster
// or Temporal Cloud alike.
//
// Every client it makes carries the payload codec it is given, on payloads
// and on failures (the default failure converter with
// EncodeCommonAttributes, so failure messages and stack traces are sealed
// too). TEMPORAL_CODEC_ENDPOINT is left to the Temporal CLI and the Web UI:
// byokflow's programs seal locally.
//
// It imports the Temporal SDK and nothing of ours.
package temporalenv

import (
	"errors"
	"fmt"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/contrib/envconfig"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/temporal"
)

// Options returns the client options of the environment (env; the process
// environment when nil) with logger (nil: the SDK's) and codec (nil: none,
// histories in clear).
func Options(env envconfig.EnvLookup, logger log.Logger, codec converter.PayloadCodec) (client.Options, error) {
	opts, err := envconfig.LoadClientOptions(envconfig.LoadClientOptionsRequest{EnvLookup: env})
	if err != nil {
		return client.Options{}, fmt.Errorf("read the Temporal connection settings: %w: check TEMPORAL_ADDRESS, TEMPORAL_API_KEY, TEMPORAL_TLS_* and TEMPORAL_CONFIG_FILE", err)
	}
	if opts.HostPort == "" {
		return client.Options{}, errors.New("connect to Temporal: TEMPORAL_ADDRESS is not set: run 'make stack' and '. .run/env', or point it at your Temporal frontend")
	}
	opts.Logger = logger
	if codec != nil {
		dc := converter.NewCodecDataConverter(converter.GetDefaultDataConverter(), codec)
		opts.DataConverter = dc
		opts.FailureConverter = temporal.NewDefaultFailureConverter(temporal.DefaultFailureConverterOptions{
			DataConverter: dc, EncodeCommonAttributes: true,
		})
	}
	return opts, nil
}

// Codec returns the payload codec to use, or nil for none. Dial calls it
// after reading the connection settings, so a missing TEMPORAL_ADDRESS is
// reported first.
type Codec func() (converter.PayloadCodec, error)

// Dial connects with Options of the process environment and the codec
// returns (codec may be nil: no codec).
func Dial(logger log.Logger, codec Codec) (client.Client, error) {
	if _, err := Options(nil, logger, nil); err != nil {
		return nil, err
	}
	var pc converter.PayloadCodec
	if codec != nil {
		var err error
		if pc, err = codec(); err != nil {
			return nil, err
		}
	}
	opts, err := Options(nil, logger, pc)
	if err != nil {
		return nil, err
	}
	c, err := client.Dial(opts)
	if err != nil {
		return nil, fmt.Errorf("connect to Temporal at %s: %w: check TEMPORAL_ADDRESS, and TEMPORAL_TLS_* or TEMPORAL_API_KEY for a secured cluster", opts.HostPort, err)
	}
	return c, nil
}
