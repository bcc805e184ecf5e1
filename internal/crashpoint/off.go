//go:build !byoktest

package crashpoint

import "go.temporal.io/sdk/interceptor"

// Interceptors returns nothing in production builds.
func Interceptors() []interceptor.WorkerInterceptor { return nil }
