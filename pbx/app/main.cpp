// The daemon `duplex` (placeholder until the ServerApplication lands).
int main() { return 0; }
