namespace Broker.Testing; public static class Placeholder;
