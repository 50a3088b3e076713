// A vector with room for N elements inside the object, for the short lists of
// a parsed SIP header (URI and header parameters, Contact entries): parsing a
// usual message then allocates nothing for them. Spills to the heap past N.
// For: pbx/sip views. Any thread; a plain value like std::vector.
//
// The subset of std::vector the SIP code uses: range-for, size(), empty(),
// operator[], at(), front(), back(), data(), push_back(), emplace_back(),
// reserve(), clear(). Contiguous, so it converts to std::span.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <new>
#include <stdexcept>
#include <type_traits>
#include <utility>

namespace duplex::sip {

template <class T, std::size_t N>
class SmallVector {
  static_assert(N > 0, "use std::vector without inline capacity");

 public:
  using value_type = T;
  using size_type = std::size_t;
  using iterator = T*;
  using const_iterator = const T*;
  using reference = T&;
  using const_reference = const T&;

  SmallVector() noexcept = default;
  SmallVector(const SmallVector& other) { append(other.begin(), other.end()); }
  SmallVector(SmallVector&& other) noexcept { take(other); }
  SmallVector& operator=(const SmallVector& other) {
    if (this != &other) {
      clear();
      append(other.begin(), other.end());
    }
    return *this;
  }
  SmallVector& operator=(SmallVector&& other) noexcept {
    if (this != &other) {
      release();
      take(other);
    }
    return *this;
  }
  ~SmallVector() { release(); }

  T* data() noexcept { return data_; }
  const T* data() const noexcept { return data_; }
  std::size_t size() const noexcept { return size_; }
  std::size_t capacity() const noexcept { return capacity_; }
  bool empty() const noexcept { return size_ == 0; }
  T* begin() noexcept { return data_; }
  T* end() noexcept { return data_ + size_; }
  const T* begin() const noexcept { return data_; }
  const T* end() const noexcept { return data_ + size_; }
  T& operator[](std::size_t i) noexcept { return data_[i]; }
  const T& operator[](std::size_t i) const noexcept { return data_[i]; }
  // Bounds-checked like std::vector::at (tests and admin paths only).
  T& at(std::size_t i) {
    if (i >= size_) throw std::out_of_range("SmallVector::at");
    return data_[i];
  }
  const T& at(std::size_t i) const {
    if (i >= size_) throw std::out_of_range("SmallVector::at");
    return data_[i];
  }
  T& front() noexcept { return data_[0]; }
  const T& front() const noexcept { return data_[0]; }
  T& back() noexcept { return data_[size_ - 1]; }
  const T& back() const noexcept { return data_[size_ - 1]; }

  void reserve(std::size_t n) {
    if (n > capacity_) grow(n);
  }
  void clear() noexcept {
    std::destroy(begin(), end());
    size_ = 0;
  }
  void push_back(const T& v) { emplace_back(v); }
  void push_back(T&& v) { emplace_back(std::move(v)); }
  template <class... A>
  T& emplace_back(A&&... args) {
    if (size_ == capacity_) {
      // Constructed first: `args` may refer to an element that grow() moves.
      T tmp(std::forward<A>(args)...);
      grow(capacity_ * 2);
      return *::new (static_cast<void*>(data_ + size_++)) T(std::move(tmp));
    }
    return *::new (static_cast<void*>(data_ + size_++)) T(std::forward<A>(args)...);
  }

 private:
  static constexpr bool kTrivial = std::is_trivially_copyable_v<T>;

  T* inlineData() noexcept { return std::launder(reinterpret_cast<T*>(inline_)); }
  bool isInline() const noexcept {
    return data_ == reinterpret_cast<const T*>(static_cast<const void*>(inline_));
  }

  void append(const T* first, const T* last) {
    reserve(static_cast<std::size_t>(last - first));
    if constexpr (kTrivial) {
      if (first != last) std::memcpy(static_cast<void*>(end()), first, sizeof(T) * (last - first));
      size_ += static_cast<std::uint32_t>(last - first);
    } else {
      for (; first != last; ++first) emplace_back(*first);
    }
  }

  // Moves `other`'s elements (or its heap block) into this empty vector.
  void take(SmallVector& other) noexcept {
    if (!other.isInline()) {
      data_ = other.data_;
      capacity_ = other.capacity_;
      size_ = other.size_;
      other.data_ = other.inlineData();
      other.capacity_ = N;
      other.size_ = 0;
      return;
    }
    data_ = inlineData();
    capacity_ = N;
    if constexpr (kTrivial && sizeof(T) * N <= 256) {
      // A fixed-size copy of the whole inline area is a few vector moves,
      // cheaper than a memcpy call for the used part.
      // Bytes past size() are uninitialized on purpose; copying them is harmless.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
      std::memcpy(static_cast<void*>(inline_), other.inline_, sizeof(T) * N);
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif
    } else if constexpr (kTrivial) {
      std::memcpy(static_cast<void*>(data_), other.data_, sizeof(T) * other.size_);
    } else {
      std::uninitialized_move(other.begin(), other.end(), data_);
      std::destroy(other.begin(), other.end());
    }
    size_ = other.size_;
    other.size_ = 0;
  }

  void release() noexcept {
    clear();
    if (!isInline()) ::operator delete(static_cast<void*>(data_));
    data_ = inlineData();
    capacity_ = N;
  }

  void grow(std::size_t n) {
    n = std::max<std::size_t>(n, 2 * N);
    T* fresh = static_cast<T*>(::operator new(sizeof(T) * n));
    if constexpr (kTrivial) {
      std::memcpy(static_cast<void*>(fresh), data_, sizeof(T) * size_);
    } else {
      std::uninitialized_move(begin(), end(), fresh);
      std::destroy(begin(), end());
    }
    if (!isInline()) ::operator delete(static_cast<void*>(data_));
    data_ = fresh;
    capacity_ = static_cast<std::uint32_t>(n);
  }

  T* data_ = inlineData();
  std::uint32_t size_ = 0;
  std::uint32_t capacity_ = N;
  alignas(T) unsigned char inline_[sizeof(T) * N];
};

}  // namespace duplex::sip
