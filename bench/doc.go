// Package bench measures byokflow's streaming encryption side by side with
// a bare AES-256-GCM loop (the limit) and with its peers, tink-go's
// streaming AEAD and age. It is a separate module so that the peers stay out
// of byokflow's dependencies; nothing of byokflow may import it.
//
// Run the benchmarks and the target checks with
//
//	cd bench && go run ./cmd/benchtable
package bench
