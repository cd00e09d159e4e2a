-- An AnyValue ${V} as the collector stores it (pcommon.Value.AsString) for the cases raw_logs_unusual.sql lets
-- through: strings as they are, ints in decimal, bools true/false, doubles in fixed notation (shortest
-- round-trip digits, as Go's strconv 'f' -1 and ClickHouse both write them), nothing for an empty value.
multiIf(tupleElement(${V}, 'value') = 'string_value', tupleElement(${V}, 'string_value'),
        tupleElement(${V}, 'value') = 'int_value', toString(tupleElement(${V}, 'int_value')),
        tupleElement(${V}, 'value') = 'bool_value', if(tupleElement(${V}, 'bool_value'), 'true', 'false'),
        tupleElement(${V}, 'value') = 'double_value', toString(tupleElement(${V}, 'double_value')),
        '')
