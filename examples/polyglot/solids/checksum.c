/* A C solid for the polyglot example: the CRC-32 (IEEE 802.3, as zlib's crc32) of bytes. */
#include "weft.h"

static uint32_t crc32(const uint8_t *data, size_t len) {
    uint32_t crc = 0xFFFFFFFFu;
    for (size_t i = 0; i < len; i++) {
        crc ^= data[i];
        for (int bit = 0; bit < 8; bit++) crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));
    }
    return crc ^ 0xFFFFFFFFu;
}

static weft_status checksum(const weft_inputs *in, weft_outputs *out) {
    size_t len;
    const uint8_t *raw = weft_input_bytes(in, "raw", &len);
    uint32_t crc = crc32(raw, len);
    weft_info("CRC-32 of %zu bytes: %08x", len, (unsigned)crc);
    weft_set(out, "crc32", weft_int(crc));
    return WEFT_OK;
}

WEFT_SOLID(
    .name = "checksum",
    .description = "Computes the CRC-32 of the raw bytes.",
    .inputs = WEFT_INPUTS({"raw", "The bytes to check", WEFT_BYTES}),
    .outputs = WEFT_OUTPUTS({"crc32", "The CRC-32 of the bytes, as an unsigned 32-bit number", WEFT_INTEGER}),
    .compute = checksum,
);
