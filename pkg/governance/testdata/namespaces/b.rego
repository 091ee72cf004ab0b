package team.b

warn contains "b warns" if input.kind == "Model"
