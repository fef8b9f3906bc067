"""Reference interpreters of trnc's IR levels, on xDSL's interpreter framework."""
