// placeholder: the CLI lands with the lifecycle engine
