package emulator

import (
	"errors"
	"fmt"
)

// AddAccount creates an account; it is a no-op when the account exists.
func (s *Server) AddAccount(id string) error {
	if id == "" {
		return errors.New("add account: empty id")
	}
	return s.mutate(func() error {
		if s.st.Accounts[id] == nil {
			s.st.Accounts[id] = &account{ID: id, Created: s.now()}
		}
		return nil
	})
}

// AddKPInstance creates a Key Protect instance owned by an existing
// account; it is a no-op when the instance exists in that account.
func (s *Server) AddKPInstance(accountID, instanceID string) error {
	return s.mutate(func() error {
		if s.st.Accounts[accountID] == nil {
			return fmt.Errorf("add instance %s: account %s does not exist", instanceID, accountID)
		}
		if inst := s.st.Instances[instanceID]; inst != nil {
			if inst.AccountID != accountID {
				return fmt.Errorf("add instance %s: it belongs to account %s", instanceID, inst.AccountID)
			}
			return nil
		}
		if instanceID == "" {
			return errors.New("add instance: empty id")
		}
		s.st.Instances[instanceID] = &instance{ID: instanceID, AccountID: accountID, Created: s.now()}
		return nil
	})
}

// AddUser creates or updates a user of an account. roles maps Key
// Protect instance IDs to a service role: Reader, ReaderPlus, Writer or
// Manager.
func (s *Server) AddUser(accountID, apiKey, iamID string, roles map[string]string) error {
	for inst, role := range roles {
		if roleRank[role] == 0 {
			return fmt.Errorf("add user %s: unknown role %q on instance %s", iamID, role, inst)
		}
	}
	copied := make(map[string]string, len(roles))
	for k, v := range roles {
		copied[k] = v
	}
	return s.addIdentity(&identity{IAMID: iamID, AccountID: accountID, Kind: kindUser, Roles: copied}, apiKey)
}

// AddServiceID creates or updates a service ID acting for serviceName.
func (s *Server) AddServiceID(accountID, serviceName, apiKey, iamID string) error {
	if serviceName == "" {
		return fmt.Errorf("add service ID %s: empty service name", iamID)
	}
	return s.addIdentity(&identity{IAMID: iamID, AccountID: accountID, Kind: kindService, ServiceName: serviceName}, apiKey)
}

func (s *Server) addIdentity(ident *identity, apiKey string) error {
	if ident.IAMID == "" || apiKey == "" {
		return errors.New("add identity: empty IAM ID or API key")
	}
	ident.APIKeyHash = hashAPIKey(apiKey)
	return s.mutate(func() error {
		if s.st.Accounts[ident.AccountID] == nil {
			return fmt.Errorf("add identity %s: account %s does not exist", ident.IAMID, ident.AccountID)
		}
		old := s.st.Identities[ident.IAMID]
		if old != nil && old.AccountID != ident.AccountID {
			return fmt.Errorf("add identity %s: it belongs to account %s", ident.IAMID, old.AccountID)
		}
		if owner, ok := s.st.apiKeys[ident.APIKeyHash]; ok && owner != ident.IAMID {
			return fmt.Errorf("add identity %s: the API key already belongs to %s", ident.IAMID, owner)
		}
		ident.Created = s.now()
		if old != nil {
			ident.Created = old.Created
			delete(s.st.apiKeys, old.APIKeyHash)
		}
		s.st.Identities[ident.IAMID] = ident
		s.st.apiKeys[ident.APIKeyHash] = ident.IAMID
		return nil
	})
}

// mutate runs fn under the write lock and saves the state.
func (s *Server) mutate(fn func() error) error {
	var ferr error
	e := s.update(func() *apiError {
		if ferr = fn(); ferr != nil {
			return &apiError{}
		}
		return nil
	})
	if ferr != nil {
		return ferr
	}
	if e != nil {
		return fmt.Errorf("save state: %s", e.message)
	}
	return nil
}
