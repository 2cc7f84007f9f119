// A small Jetty service traced by the real dd-java-agent (run with -javaagent), as its users
// write one: GET /work calls DOWNSTREAM (if set) with java.net.http.HttpClient and answers 500
// with ?fail. Prints {"port": N} once it listens.
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import javax.servlet.http.HttpServletRequest;
import javax.servlet.http.HttpServletResponse;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.server.handler.AbstractHandler;

public class App {
  public static void main(String[] args) throws Exception {
    String downstream = System.getenv("DOWNSTREAM");
    HttpClient client = HttpClient.newHttpClient();
    Server server = new Server(new InetSocketAddress("127.0.0.1", 0));
    server.setHandler(new AbstractHandler() {
      @Override
      public void handle(String target, Request base, HttpServletRequest req, HttpServletResponse res) throws IOException {
        base.setHandled(true);
        boolean fail = req.getParameter("fail") != null;
        if (downstream != null) {
          try {
            client.send(HttpRequest.newBuilder(URI.create(downstream + (fail ? "?fail=1" : ""))).build(), HttpResponse.BodyHandlers.discarding());
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException(e);
          }
        }
        res.setStatus(fail ? 500 : 200);
        res.getWriter().print(fail ? "failed on purpose" : "ok");
      }
    });
    server.setStopAtShutdown(true);
    server.start();
    System.out.println("{\"port\": " + ((ServerConnector) server.getConnectors()[0]).getLocalPort() + "}");
    System.out.flush();
    server.join();
  }
}
