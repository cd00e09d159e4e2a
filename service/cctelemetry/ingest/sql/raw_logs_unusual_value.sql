-- An AnyValue ${V} that raw_logs_value.sql does not render as Go would: arrays, maps and bytes (JSON and
-- base64 in Go), and doubles Go writes in exponent form (|x| < 1e-6 or >= 1e21), NaN and infinities.
(tupleElement(${V}, 'value') IN ('array_value', 'kvlist_value', 'bytes_value')
 OR (tupleElement(${V}, 'value') = 'double_value'
     AND (NOT match(toString(tupleElement(${V}, 'double_value')), '^-?[0-9]+(\\.[0-9]+)?$')
          OR (abs(tupleElement(${V}, 'double_value')) < 1e-6 AND tupleElement(${V}, 'double_value') != 0)
          OR abs(tupleElement(${V}, 'double_value')) >= 1e21)))
