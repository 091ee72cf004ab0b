package modelgate.authz
