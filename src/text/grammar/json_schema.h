// JSON Schema -> Grammar: output constrained by the grammar always parses as
// JSON and validates against the schema.
//
// Supported: type (object, array, string, number, integer, boolean, null, or
// a list of these), properties + required (properties are written in the
// schema's order; optional ones may be left out), additionalProperties is
// ignored (only the listed properties are written), items, minItems,
// maxItems, enum, const, anyOf / oneOf, string minLength / maxLength, nesting,
// and an empty schema (any JSON value). Anything else (pattern, $ref, allOf,
// numeric ranges, ...) gives an Unsupported Status naming the keyword and its
// path in the schema, rather than output that might not validate.
// Whitespace between tokens is limited (a space or a newline with up to 16
// spaces of indentation), so a model cannot stall in whitespace.
#pragma once

#include <nlohmann/json.hpp>

#include "core/status.h"
#include "text/grammar/grammar.h"

namespace aigc {

// `schema` is an ordered_json so that properties keep the order the schema gives them.
Result<Grammar> grammar_from_json_schema(const nlohmann::ordered_json& schema);

}  // namespace aigc
