//go:build tools

// Package byokflow pins, for go mod tidy, the modules the packages of this
// repository build on before every one of them is imported by real code.
package byokflow

import (
	_ "github.com/IBM/go-sdk-core/v5/core"
	_ "github.com/IBM/keyprotect-go-client"
	_ "github.com/IBM/platform-services-go-sdk/iampolicymanagementv1"
	_ "github.com/jackc/pgx/v5/pgxpool"
	_ "github.com/stretchr/testify/require"
	_ "go.temporal.io/sdk/client"
	_ "go.temporal.io/sdk/testsuite"
	_ "go.temporal.io/sdk/worker"
	_ "go.temporal.io/sdk/workflow"
	_ "go.uber.org/mock/gomock"
)
