package team.a

deny contains "a denies" if input.kind == "Model"
