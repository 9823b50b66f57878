/*
 * wordcount: a WASI app following iExec's app conventions.
 *
 * Counts words (split on ASCII whitespace, ASCII letters lower-cased) from its arguments and,
 * when IEXEC_DATASET_FILENAME is set, from the file $IEXEC_IN/$IEXEC_DATASET_FILENAME.
 * Writes $IEXEC_OUT/result.json, deterministic JSON with sorted keys, byte for byte what Python's
 * json.dumps(obj, sort_keys=True, ensure_ascii=False) + "\n" gives:
 *     {"counts": {"a": 1, ...}, "words": N}
 * and $IEXEC_OUT/computed.json naming it as the deterministic output.
 *
 * Test switches (checked before anything is written):
 *     --crash   print "crashing on purpose" to stderr and exit 3
 *     --spin    loop forever (exercises fuel and wall-clock limits)
 *     --alloc   allocate 1 MiB blocks until malloc fails, then exit 4 (exercises memory limits)
 *
 * Exit codes: 0 success, 1 input/output error, 3 --crash, 4 out of memory.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define EXIT_IO 1
#define EXIT_CRASH 3
#define EXIT_NOMEM 4

struct words {
    char **items;
    size_t len;
    size_t cap;
};

static void die_nomem(void) {
    fputs("wordcount: out of memory\n", stderr);
    exit(EXIT_NOMEM);
}

static void push(struct words *w, char *word) {
    if (w->len == w->cap) {
        size_t cap = w->cap ? w->cap * 2 : 64;
        char **items = realloc(w->items, cap * sizeof *items);
        if (!items) die_nomem();
        w->items = items;
        w->cap = cap;
    }
    w->items[w->len++] = word;
}

/* Lower-cases and splits `text` in place (whitespace becomes NUL); collects pointers to words. */
static void tokenize(char *text, size_t size, struct words *w) {
    char *start = NULL;
    for (size_t i = 0; i < size; i++) {
        unsigned char c = (unsigned char)text[i];
        if (c == ' ' || (c >= '\t' && c <= '\r') || c == '\0') {
            text[i] = '\0';
            if (start) push(w, start);
            start = NULL;
        } else {
            if (c >= 'A' && c <= 'Z') text[i] = (char)(c - 'A' + 'a');
            if (!start) start = &text[i];
        }
    }
    /* The caller leaves one spare byte after the text so the last word can be terminated. */
    text[size] = '\0';
    if (start) push(w, start);
}

static char *copy(const char *s, size_t size) {
    char *out = malloc(size + 1);
    if (!out) die_nomem();
    memcpy(out, s, size);
    return out;
}

/* Reads a whole file into a fresh buffer with one spare byte; NULL (and errno) on failure. */
static char *read_file(const char *path, size_t *size) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    size_t cap = 4096, len = 0;
    char *buf = malloc(cap);
    if (!buf) die_nomem();
    for (;;) {
        if (len + 1 >= cap) {
            cap *= 2;
            char *grown = realloc(buf, cap);
            if (!grown) die_nomem();
            buf = grown;
        }
        size_t n = fread(buf + len, 1, cap - len - 1, f);
        len += n;
        if (n == 0) break;
    }
    int failed = ferror(f);
    fclose(f);
    if (failed) {
        free(buf);
        return NULL;
    }
    *size = len;
    return buf;
}

static int compare(const void *a, const void *b) {
    /* strcmp compares bytes as unsigned char: for UTF-8 that is code-point order, as Python sorts. */
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Writes a JSON string the way Python's json.dumps(ensure_ascii=False) does. */
static void write_json_string(FILE *f, const char *s) {
    fputc('"', f);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        switch (*p) {
            case '"': fputs("\\\"", f); break;
            case '\\': fputs("\\\\", f); break;
            case '\b': fputs("\\b", f); break;
            case '\f': fputs("\\f", f); break;
            case '\n': fputs("\\n", f); break;
            case '\r': fputs("\\r", f); break;
            case '\t': fputs("\\t", f); break;
            default:
                if (*p < 0x20) fprintf(f, "\\u%04x", *p);
                else fputc(*p, f);
        }
    }
    fputc('"', f);
}

static FILE *open_output(const char *dir, const char *name, char *path, size_t path_size) {
    snprintf(path, path_size, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    if (!f) perror(path);
    return f;
}

static int spin(void) {
    volatile unsigned long counter = 0;
    for (;;) counter++;
}

static int alloc_forever(void) {
    /* Chain the blocks together so the compiler cannot drop the allocations. */
    void **head = NULL;
    size_t mib = 0;
    for (;;) {
        void **block = malloc(1 << 20);
        if (!block) {
            fprintf(stderr, "wordcount: out of memory after %zu MiB\n", mib);
            return EXIT_NOMEM;
        }
        *block = head;
        head = block;
        mib++;
    }
}

int main(int argc, char **argv) {
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--crash") == 0) {
            fputs("crashing on purpose\n", stderr);
            return EXIT_CRASH;
        }
        if (strcmp(argv[i], "--spin") == 0) return spin();
        if (strcmp(argv[i], "--alloc") == 0) return alloc_forever();
    }

    const char *in_dir = getenv("IEXEC_IN");
    const char *out_dir = getenv("IEXEC_OUT");
    const char *dataset = getenv("IEXEC_DATASET_FILENAME");
    if (!in_dir || !*in_dir) in_dir = "/iexec_in";
    if (!out_dir || !*out_dir) out_dir = "/iexec_out";

    struct words w = {0};
    for (int i = 1; i < argc; i++) {
        size_t size = strlen(argv[i]);
        tokenize(copy(argv[i], size), size, &w);
    }
    if (dataset && *dataset) {
        char path[4096];
        size_t size = 0;
        snprintf(path, sizeof path, "%s/%s", in_dir, dataset);
        char *text = read_file(path, &size);
        if (!text) {
            perror(path);
            return EXIT_IO;
        }
        tokenize(text, size, &w);
    }
    qsort(w.items, w.len, sizeof *w.items, compare);

    char path[4096];
    FILE *result = open_output(out_dir, "result.json", path, sizeof path);
    if (!result) return EXIT_IO;
    size_t distinct = 0;
    fputs("{\"counts\": {", result);
    for (size_t i = 0; i < w.len;) {
        size_t j = i;
        while (j < w.len && strcmp(w.items[i], w.items[j]) == 0) j++;
        if (distinct++) fputs(", ", result);
        write_json_string(result, w.items[i]);
        fprintf(result, ": %zu", j - i);
        i = j;
    }
    fprintf(result, "}, \"words\": %zu}\n", w.len);
    if (fclose(result) != 0) {
        perror(path);
        return EXIT_IO;
    }

    /* The path is the in-sandbox one, as in iExec: the worker maps /iexec_out to its folder. */
    FILE *computed = open_output(out_dir, "computed.json", path, sizeof path);
    if (!computed) return EXIT_IO;
    fputs("{\"deterministic-output-path\": \"/iexec_out/result.json\"}\n", computed);
    if (fclose(computed) != 0) {
        perror(path);
        return EXIT_IO;
    }

    printf("wordcount: %zu words, %zu distinct\n", w.len, distinct);
    return 0;
}
