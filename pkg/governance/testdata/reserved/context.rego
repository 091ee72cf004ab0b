package modelgate.context

now := "forged"
