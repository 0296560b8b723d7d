"""How much an import may ask of the server, whatever the file says.

Each door refuses a file past a limit with a message that names the limit,
before the file costs more than the limit allows: a spreadsheet is read row by
row from the zip (never padded to the widest column or the last row number), a
CSV line by line, JSON is measured before it is read into objects and its
nesting checked before anything walks it. What is left (a file that is within
every limit yet still needs much memory) is parsed under a memory ceiling in a
child process (``app.core.memlimit``) by the import job and by the API for
bodies over ``CAPPED_ABOVE``.
"""
MAX_BYTES = 20 * 1024 * 1024         # an uploaded file or API body
MAX_UNCOMPRESSED = 100 * 1024 * 1024  # an XLSX's parts unpacked, as the zip declares (zipfile holds them to it)
MAX_ZIP_PARTS = 500                  # parts in an XLSX zip
MAX_ROWS = 100_000                   # spreadsheet rows (the sheet's own row numbers) or CSV lines
MAX_COLUMNS = 1_000                  # columns: the last used column of an XLSX row, fields of a CSV line
MAX_CELLS = 1_000_000                # cells held: rows x their width, empty ones included
MAX_FIELD_CHARS = 32_767             # one cell or CSV field (Excel's own limit for a cell)
MAX_LINE_CHARS = 1024 * 1024         # one physical line of a CSV
MAX_JSON_DEPTH = 40                  # FHIR resources nest about 10 levels; 1,000 used to raise RecursionError
MAX_JSON_CONTAINERS = 250_000        # JSON objects and arrays in one body (a 5,000-result bundle has ~80,000)
MAX_HL7_DELIMITERS = 200_000         # field, component, repetition and subcomponent separators in one message
CAPPED_ABOVE = 256 * 1024            # bodies larger than this are parsed under the memory ceiling
PARSE_MEMORY_MB = 768                # the ceiling: address space a parse may add to its process
