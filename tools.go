//go:build tools

// Package byokflow keeps go.uber.org/mock at the version the project pins
// (v0.6.0) for mockgen-generated mocks of consumer-side interfaces.
package byokflow

import _ "go.uber.org/mock/gomock"
