// Ring-buffer records (bpf/events.h) to plain JS objects: decoding only, no policy.
#pragma once

#include <node_api.h>

#include <cstddef>
#include <cstdint>

// A JS object for one record, or nullptr when the record is too short or of unknown kind.
napi_value RecordToObject(napi_env env, const void* data, size_t size);
// {file: {count, ns}, net: ..., ...} for the classes with any call (bpf/events.h tr_sc_class).
napi_value SyscallClasses(napi_env env, const unsigned long long* count, const unsigned long long* ns);
