/*
 * tools/clmctl/output.h: how task commands print lists: an aligned table (the default
 * on a terminal), CSV (RFC 4180 quoting) or the replies as proto3 JSON (the default
 * when stdout is not a terminal). Chosen with the global --output option.
 */
#ifndef CLM_TOOLS_CLMCTL_OUTPUT_H
#define CLM_TOOLS_CLMCTL_OUTPUT_H

#include <stddef.h>

typedef enum output_format { OUTPUT_AUTO = 0, OUTPUT_TABLE, OUTPUT_JSON, OUTPUT_CSV } output_format;

/** Parse "table", "json" or "csv". @return 0 when unknown. */
int output_parse(const char *name, output_format *format);

/** Resolve OUTPUT_AUTO against stdout. */
output_format output_resolve(output_format format);

typedef struct output_table output_table;

/** Start a table with `ncols` column headers (borrowed until output_table_end). */
output_table *output_table_begin(output_format format, const char *const *headers, size_t ncols);
/** Add a row of `ncols` cells (copied). */
void output_table_row(output_table *table, const char *const *cells);
/** Print (table: aligned to the widest cell, capped) and free. */
void output_table_end(output_table *table);

#endif
