"""The API server's messages, written out as users see them (not imported from netpol)."""

RANGE = "must be between 1 and 65535, inclusive"
PROTOCOLS = 'supported values: "TCP", "UDP", "SCTP"'
POLICY_TYPES = 'supported values: "Ingress", "Egress"'
CIDR = "must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)"
SUBSET = "must be a strict subset of `cidr`"
PEER = "must specify a peer"
BOTH = "may not specify both ipBlock and another peer"
TWO_TYPES = "may not specify more than two policyTypes"
IN_VALUES = "must be specified when `operator` is 'In' or 'NotIn'"
EXISTS_VALUES = "may not be specified when `operator` is 'Exists' or 'DoesNotExist'"
OPERATOR = "not a valid selector operator"
END_LT_PORT = "must be greater than or equal to `port`"
END_NAMED = "may not be specified when `port` is non-numeric"
END_ALONE = "may not be specified when `port` is not specified"

PORT_CHARSET = "must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)"
PORT_LETTER = "must contain at least one letter (a-z)"
PORT_HYPHENS = "must not contain consecutive hyphens"
PORT_EDGE = "must not begin or end with a hyphen"
PORT_LONG = "must be no more than 15 characters"

LABEL_VALUE = (
    "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' "
    "or '.', and must start and end with an alphanumeric character (e.g. 'MyValue', or "
    "'my_value', or '12345', regex used for validation is "
    "'(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')"
)
NAME_PART = (
    "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and "
    "end with an alphanumeric character (e.g. 'MyName', or 'my.name', or '123-abc', regex "
    "used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')"
)
QUALIFIED_SLASHES = (
    "a qualified name must consist of alphanumeric characters, '-', '_' or '.', and must "
    "start and end with an alphanumeric character (e.g. 'MyName', or 'my.name', or "
    "'123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]') "
    "with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')"
)
SUBDOMAIN = (
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' "
    "or '.', and must start and end with an alphanumeric character (e.g. 'example.com', "
    "regex used for validation is "
    "'[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"
)
DNS_LABEL = (
    "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', "
    "and must start and end with an alphanumeric character (e.g. 'my-name', or '123-abc', "
    "regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')"
)
DNS1035 = (
    "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with "
    "an alphabetic character, and end with an alphanumeric character (e.g. 'my-name', or "
    "'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')"
)
NAME_REQUIRED = "name or generateName is required"
