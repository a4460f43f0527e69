/* tools/clmctl/output.c: tables and CSV. */
#include "tools/clmctl/output.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CELL_MAX_WIDTH 60

struct output_table {
    output_format format;
    const char *const *headers;
    size_t ncols;
    char **cells; /* rows * ncols */
    size_t rows, cap;
};

int output_parse(const char *name, output_format *format)
{
    if (strcmp(name, "table") == 0)
        *format = OUTPUT_TABLE;
    else if (strcmp(name, "json") == 0)
        *format = OUTPUT_JSON;
    else if (strcmp(name, "csv") == 0)
        *format = OUTPUT_CSV;
    else
        return 0;
    return 1;
}

output_format output_resolve(output_format format)
{
    if (format != OUTPUT_AUTO)
        return format;
    return isatty(1) ? OUTPUT_TABLE : OUTPUT_JSON;
}

output_table *output_table_begin(output_format format, const char *const *headers, size_t ncols)
{
    output_table *t = calloc(1, sizeof(*t));

    if (t == NULL)
        return NULL;
    t->format = format;
    t->headers = headers;
    t->ncols = ncols;
    return t;
}

void output_table_row(output_table *t, const char *const *cells)
{
    if (t == NULL)
        return;
    if (t->rows == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 64;
        char **grown = realloc(t->cells, cap * t->ncols * sizeof(char *));
        if (grown == NULL)
            return;
        t->cells = grown;
        t->cap = cap;
    }
    for (size_t c = 0; c < t->ncols; c++)
        t->cells[t->rows * t->ncols + c] = strdup(cells[c] ? cells[c] : "");
    t->rows++;
}

static void print_csv_cell(const char *cell, int last)
{
    if (strpbrk(cell, ",\"\r\n") != NULL) {
        putchar('"');
        for (const char *p = cell; *p; p++) {
            if (*p == '"')
                putchar('"');
            putchar(*p);
        }
        putchar('"');
    } else {
        fputs(cell, stdout);
    }
    putchar(last ? '\n' : ',');
}

void output_table_end(output_table *t)
{
    size_t width[32] = {0};

    if (t == NULL)
        return;
    if (t->format == OUTPUT_CSV) {
        for (size_t c = 0; c < t->ncols; c++)
            print_csv_cell(t->headers[c], c + 1 == t->ncols);
        for (size_t r = 0; r < t->rows; r++)
            for (size_t c = 0; c < t->ncols; c++)
                print_csv_cell(t->cells[r * t->ncols + c], c + 1 == t->ncols);
    } else {
        for (size_t c = 0; c < t->ncols && c < 32; c++) {
            width[c] = strlen(t->headers[c]);
            for (size_t r = 0; r < t->rows; r++) {
                size_t w = strlen(t->cells[r * t->ncols + c]);
                width[c] = w > width[c] ? w : width[c];
            }
            if (width[c] > CELL_MAX_WIDTH)
                width[c] = CELL_MAX_WIDTH;
        }
        for (size_t r = 0; r <= t->rows; r++) {
            for (size_t c = 0; c < t->ncols; c++) {
                const char *cell = r == 0 ? t->headers[c] : t->cells[(r - 1) * t->ncols + c];
                int w = c < 32 ? (int)width[c] : 0;
                if (c + 1 == t->ncols)
                    printf("%s\n", cell);
                else if ((int)strlen(cell) > w)
                    printf("%.*s~  ", w - 1, cell);
                else
                    printf("%-*s  ", w, cell);
            }
        }
    }
    for (size_t i = 0; i < t->rows * t->ncols; i++)
        free(t->cells[i]);
    free(t->cells);
    free(t);
}
